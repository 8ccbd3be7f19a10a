using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;

namespace MixProxy.Tests.HostileInput;

/// <summary>
/// The battery's table: a row per client API of <see cref="ProtocolRegistry.Default"/>. A new client API gets a row
/// here, and with it every hostile-input, credential, upstream-fault and leak case the battery runs.
/// </summary>
internal static class ClientApiRows
{
    public static IReadOnlyList<ClientApiRow> All { get; } =
    [
        new("OpenAI Chat Completions", [
            new("OpenAIChat", _ => "/v1/chat/completions", (model, text) => Json(new JsonObject { ["model"] = model, ["messages"] = Messages(text) }), [
                Wrong("messages", model => new JsonObject { ["model"] = model, ["messages"] = "Hi" }),
                Wrong("messages[0].content", model => new JsonObject { ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = 5 }) }),
                Wrong("messages[0].content", model => new JsonObject { ["model"] = model, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new JsonObject { ["text"] = "Hi" } }) }),
                Wrong("model", _ => new JsonObject { ["model"] = 5, ["messages"] = Messages("Hi") }),
                Wrong("temperature", model => new JsonObject { ["model"] = model, ["messages"] = Messages("Hi"), ["temperature"] = "hot" }),
                Wrong("max_tokens", model => new JsonObject { ["model"] = model, ["messages"] = Messages("Hi"), ["max_tokens"] = "ten" }),
                Wrong("stream", model => new JsonObject { ["model"] = model, ["messages"] = Messages("Hi"), ["stream"] = "yes" }),
                Wrong("stream_options", model => new JsonObject { ["model"] = model, ["messages"] = Messages("Hi"), ["stream"] = true, ["stream_options"] = "x" }),
                Wrong("tools", model => new JsonObject { ["model"] = model, ["messages"] = Messages("Hi"), ["tools"] = "x" }),
            ], Streaming: model => ("/v1/chat/completions", Json(new JsonObject { ["model"] = model, ["messages"] = Messages("Say hello"), ["stream"] = true }))),
        ], AssertOpenAIError),
        new("Gemini", [
            new("GeminiGenerateContent", model => $"/v1beta/models/{model}:generateContent", (_, text) => Json(Contents(text)), GeminiWrongTypes()),
            new("GeminiStreamGenerateContent", model => $"/v1beta/models/{model}:streamGenerateContent?alt=sse", (_, text) => Json(Contents(text)), GeminiWrongTypes(),
                Streaming: model => ($"/v1beta/models/{model}:streamGenerateContent?alt=sse", Json(Contents("Say hello")))),
            // Chat Completions has no token counting: a model on an OpenAI-protocol upstream is a 501.
            new("GeminiCountTokens", model => $"/v1beta/models/{model}:countTokens", (_, text) => Json(Contents(text)), [], Unserved: ["OpenAI"]),
        ], AssertGoogleError),
        new("OpenAI Responses", [
            new("OpenAIResponses", _ => "/v1/responses", (model, text) => Json(new JsonObject { ["model"] = model, ["input"] = text, ["store"] = false }), [
                Wrong("input", model => new JsonObject { ["model"] = model, ["input"] = 5, ["store"] = false }),
                Wrong("model", _ => new JsonObject { ["model"] = 5, ["input"] = "Hi", ["store"] = false }),
                Wrong("instructions", model => new JsonObject { ["model"] = model, ["input"] = "Hi", ["store"] = false, ["instructions"] = 5 }),
                Wrong("temperature", model => new JsonObject { ["model"] = model, ["input"] = "Hi", ["store"] = false, ["temperature"] = "hot" }),
                Wrong("max_output_tokens", model => new JsonObject { ["model"] = model, ["input"] = "Hi", ["store"] = false, ["max_output_tokens"] = "ten" }),
                Wrong("stream", model => new JsonObject { ["model"] = model, ["input"] = "Hi", ["store"] = false, ["stream"] = "yes" }),
                Wrong("tools", model => new JsonObject { ["model"] = model, ["input"] = "Hi", ["store"] = false, ["tools"] = "x" }),
            ], Streaming: model => ("/v1/responses", Json(new JsonObject { ["model"] = model, ["input"] = "Say hello", ["store"] = false, ["stream"] = true }))),
        ], AssertOpenAIError),
        new("Anthropic Messages", [
            new("AnthropicMessages", _ => "/v1/messages", (model, text) => Json(AnthropicMessage(model, text)), [
                Wrong("model", _ => AnthropicMessage(5, "Hi")),
                Wrong("max_tokens", model => With(AnthropicMessage(model, "Hi"), "max_tokens", "ten")),
                Wrong("stream", model => With(AnthropicMessage(model, "Hi"), "stream", "yes")),
                Wrong("messages", model => With(AnthropicMessage(model, "Hi"), "messages", "Hi")),
                Wrong("messages[0].content", model => With(AnthropicMessage(model, "Hi"), "messages", new JsonArray(new JsonObject { ["role"] = "user", ["content"] = 5 }))),
                Wrong("messages[0].role", model => With(AnthropicMessage(model, "Hi"), "messages", new JsonArray(new JsonObject { ["role"] = 5, ["content"] = "Hi" }))),
                Wrong("system", model => With(AnthropicMessage(model, "Hi"), "system", 5)),
                Wrong("temperature", model => With(AnthropicMessage(model, "Hi"), "temperature", "hot")),
                Wrong("stop_sequences", model => With(AnthropicMessage(model, "Hi"), "stop_sequences", 5)),
                Wrong("tools", model => With(AnthropicMessage(model, "Hi"), "tools", "x")),
                Wrong("tool_choice", model => With(AnthropicMessage(model, "Hi"), "tool_choice", "auto")),
                Wrong("thinking", model => With(AnthropicMessage(model, "Hi"), "thinking", "on")),
            ], Streaming: model => ("/v1/messages", Json(With(AnthropicMessage(model, "Say hello"), "stream", true)))),
            // Chat Completions has no token counting: a model on an OpenAI-protocol upstream is a 501.
            new("AnthropicCountTokens", _ => "/v1/messages/count_tokens", (model, text) => Json(new JsonObject { ["model"] = model, ["messages"] = Messages(text) }), [
                Wrong("model", _ => new JsonObject { ["model"] = 5, ["messages"] = Messages("Hi") }),
                Wrong("messages", model => new JsonObject { ["model"] = model, ["messages"] = "Hi" }),
                Wrong("system", model => new JsonObject { ["model"] = model, ["messages"] = Messages("Hi"), ["system"] = 5 }),
            ], Unserved: ["OpenAI"]),
        ], AssertAnthropicError),
    ];

    /// <summary>The row of <paramref name="api"/>; fails, saying what to add, when the table has none.</summary>
    public static ClientApiRow For(ClientApi api)
    {
        var row = All.SingleOrDefault(r => r.ApiName == api.Name);
        if (row is null)
        {
            Assert.Fail(
                $"The client API '{api.Name}' is registered in ProtocolRegistry.Default but has no row in tests/MixProxy.Tests/HostileInput/ClientApiRows.cs, " +
                $"so the hostile-input battery cannot test it. Add to ClientApiRows.All: new(\"{api.Name}\", [{string.Join(", ", api.Endpoints.Select(e => $"new(\"{e.Id}\", Path: model => \"<its path>\", Body: (model, text) => \"<its smallest good request>\", WrongTypedFields: [Wrong(\"<field>\", model => <a body with that field of the wrong JSON type>)])"))}], " +
                "AssertError: <a method asserting its error body: the status, the message, and where it names the offending field>).");
        }

        var missing = api.Endpoints.Select(e => e.Id).Except(row.Endpoints.Select(e => e.EndpointId)).ToList();
        Assert.True(missing.Count == 0, $"The row of '{api.Name}' in tests/MixProxy.Tests/HostileInput/ClientApiRows.cs has no EndpointRow for {string.Join(", ", missing)}: add new(\"<id>\", Path: …, Body: …, WrongTypedFields: […]) for each.");
        return row;
    }

    /// <summary>The row of an endpoint, by its id (failing as <see cref="For"/> does when there is none).</summary>
    public static (ClientEndpoint Endpoint, ClientApiRow Api, EndpointRow Row) Endpoint(string endpointId)
    {
        var endpoint = ProtocolRegistry.Default.FindEndpoint(endpointId) ?? throw new InvalidOperationException($"No endpoint {endpointId} in the registry.");
        var api = For(endpoint.Api);
        return (endpoint, api, api.Endpoints.Single(e => e.EndpointId == endpointId));
    }

    private static IReadOnlyList<WrongTypedField> GeminiWrongTypes() =>
    [
        Wrong("contents", _ => new JsonObject { ["contents"] = "Hi" }),
        Wrong("contents[0].role", _ => new JsonObject { ["contents"] = new JsonArray(new JsonObject { ["role"] = 5, ["parts"] = new JsonArray(new JsonObject { ["text"] = "Hi" }) }) }),
        Wrong("contents[0].parts[0]", _ => new JsonObject { ["contents"] = new JsonArray(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = 5 }) }) }),
        Wrong("generationConfig", _ => With(Contents("Hi"), "generationConfig", "x")),
        Wrong("generationConfig.maxOutputTokens", _ => With(Contents("Hi"), "generationConfig", new JsonObject { ["maxOutputTokens"] = "ten" })),
        Wrong("generationConfig.maxOutputTokens", _ => With(Contents("Hi"), "generationConfig", new JsonObject { ["maxOutputTokens"] = 1.5 })),
        Wrong("generationConfig.temperature", _ => With(Contents("Hi"), "generationConfig", new JsonObject { ["temperature"] = "hot" })),
        Wrong("generationConfig.stopSequences", _ => With(Contents("Hi"), "generationConfig", new JsonObject { ["stopSequences"] = 5 })),
        Wrong("systemInstruction", _ => With(Contents("Hi"), "systemInstruction", 5)),
        Wrong("systemInstruction.parts", _ => With(Contents("Hi"), "systemInstruction", new JsonObject { ["parts"] = "Be brief" })),
        Wrong("systemInstruction.parts[0].text", _ => With(Contents("Hi"), "systemInstruction", new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = 5 }) })),
        Wrong("tools", _ => With(Contents("Hi"), "tools", "x")),
        Wrong("toolConfig", _ => With(Contents("Hi"), "toolConfig", "x")),
        Wrong("toolConfig.functionCallingConfig", _ => With(Contents("Hi"), "toolConfig", new JsonObject { ["functionCallingConfig"] = "NONE" })),
    ];

    private static WrongTypedField Wrong(string param, Func<string, JsonObject> body) => new(param, model => Json(body(model)));

    private static JsonArray Messages(string text) => new(new JsonObject { ["role"] = "user", ["content"] = text });

    private static JsonObject Contents(string text) =>
        new() { ["contents"] = new JsonArray(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) }) };

    private static JsonObject AnthropicMessage(JsonNode model, string text) =>
        new() { ["model"] = model, ["max_tokens"] = 64, ["messages"] = Messages(text) };

    private static JsonObject With(JsonObject body, string name, JsonNode value)
    {
        body[name] = value;
        return body;
    }

    private static string Json(JsonObject body) => body.ToJsonString();

    /// <summary>OpenAI's error: <c>{"error":{"message","type","param","code"}}</c>, the field in <c>param</c>.</summary>
    private static void AssertOpenAIError(JsonNode? body, int status, string? param)
    {
        var error = Assert.IsType<JsonObject>(body?["error"], exactMatch: false);
        Assert.False(string.IsNullOrWhiteSpace(error["message"]?.GetValue<string>()), "error.message");
        Assert.False(string.IsNullOrWhiteSpace(error["type"]?.GetValue<string>()), "error.type");
        Assert.True(error.ContainsKey("param") && error.ContainsKey("code"), "error.param and error.code are always there (null when there is none)");
        if (param is not null)
        {
            Assert.Equal(param, error["param"]?.GetValue<string>());
        }
    }

    /// <summary>Google's error: <c>{"error":{"code","message","status"}}</c>, the code the HTTP status, the field in the message.</summary>
    private static void AssertGoogleError(JsonNode? body, int status, string? param)
    {
        var error = Assert.IsType<JsonObject>(body?["error"], exactMatch: false);
        Assert.Equal(status, error["code"]?.GetValue<int>());
        var name = error["status"]?.GetValue<string>();
        Assert.True(name is { Length: > 0 } && name.All(c => char.IsAsciiLetterUpper(c) || c == '_'), $"error.status is a google.rpc code name, not '{name}'");
        var message = error["message"]?.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(message), "error.message");
        if (param is not null)
        {
            Assert.Contains(param, message, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Anthropic's error: <c>{"type":"error","error":{"type","message"}}</c>, the type one of Anthropic's and agreeing
    /// with the status, the field at the start of the message (Anthropic has no place of its own for it).
    /// </summary>
    private static void AssertAnthropicError(JsonNode? body, int status, string? param)
    {
        Assert.Equal("error", body?["type"]?.GetValue<string>());
        var error = Assert.IsType<JsonObject>(body?["error"], exactMatch: false);
        var type = error["type"]?.GetValue<string>();
        Assert.Contains(type, (string[])["invalid_request_error", "authentication_error", "billing_error", "permission_error", "not_found_error", "request_too_large", "rate_limit_error", "api_error", "timeout_error", "overloaded_error"]);
        Assert.True(status >= 500 == type is "api_error" or "timeout_error" or "overloaded_error", $"error.type '{type}' does not go with status {status}");
        var message = error["message"]?.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(message), "error.message");
        if (param is not null)
        {
            Assert.Contains(param, message, StringComparison.Ordinal);
        }
    }
}
