using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace MixProxy.Simulator;

/// <summary>
/// A small upstream that answers like the provider page's backend: Gemini <c>generateContent</c> /
/// <c>streamGenerateContent</c> (SSE framed as Google frames it, or a streamed JSON array), OpenAI
/// Chat Completions, the OpenAI Responses API and Anthropic's Messages API, with settable latency, pace and injected
/// errors. It calls the first tool offered, signs its function calls and checks the signatures come back as Gemini 3
/// does, and answers a request for structured output with an instance of its schema.
/// </summary>
public static partial class SimulatorApp
{
    /// <summary>The arguments of every function call the simulated model makes (it calls the first tool offered).</summary>
    private const string ToolCallArguments = """{"query":"weather in Paris"}""";

    private const string OpenAIInvalidKey = """{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""";

    // Google writes its messages' backticks and quotes as they are, not as \u0060 escapes.
    private static readonly JsonSerializerOptions GoogleJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Builds (does not start) a simulator listening on <paramref name="url"/>, e.g. <c>http://127.0.0.1:0</c>.</summary>
    public static WebApplication Build(string url, SimulatorOptions options, SimulatorState? state = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(SimulatorApp).Assembly.GetName().Name });
        builder.WebHost.UseUrls(url);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(state ?? new SimulatorState());

        var app = builder.Build();
        app.MapPost("/{version}/models/{action}", (HttpContext c, string version, string action, SimulatorOptions o, SimulatorState s) => RecordingAbortsAsync(c, s, () => HandleGeminiAsync(c, version, action, o, s)));
        app.MapPost("/v1/chat/completions", (HttpContext c, SimulatorOptions o, SimulatorState s) => RecordingAbortsAsync(c, s, () => HandleChatAsync(c, o, s)));
        app.MapPost("/v1/responses", (HttpContext c, SimulatorOptions o, SimulatorState s) => RecordingAbortsAsync(c, s, () => HandleResponsesAsync(c, o, s)));
        app.MapGet("/v1/responses/{responseId}", (HttpContext c, string responseId, SimulatorOptions o, SimulatorState s) => GetStoredResponseAsync(c, responseId, o, s));
        MapAnthropicMessages(app);
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/{version}/models", (HttpContext c, SimulatorOptions o, SimulatorState s) => ListModelsAsync(c, o, s));
        return app;
    }

    private static async Task RecordingAbortsAsync(HttpContext context, SimulatorState state, Func<Task> handler)
    {
        try
        {
            await handler().ConfigureAwait(false);
        }
        catch (Exception e) when (context.RequestAborted.IsCancellationRequested && e is OperationCanceledException or IOException)
        {
            state.RecordAbort();
        }
    }

    /// <summary>The address a started simulator actually listens on (resolves port 0).</summary>
    public static string Address(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Urls.First();
    }

    private static async Task HandleGeminiAsync(HttpContext context, string version, string action, SimulatorOptions options, SimulatorState state)
    {
        var body = await RecordAsync(context, state).ConfigureAwait(false);
        var colon = action.LastIndexOf(':');
        var (model, method) = colon < 0 ? (action, string.Empty) : (action[..colon], action[(colon + 1)..]);

        if (!Authorized(context, options, allowQueryKey: true))
        {
            await WriteJsonAsync(context, 400, """{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}""").ConfigureAwait(false);
            return;
        }

        if (await TryScriptedAsync(context, state).ConfigureAwait(false) || await TryInjectedErrorAsync(context, options, gemini: true).ConfigureAwait(false))
        {
            return;
        }

        JsonNode? request;
        try
        {
            request = JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            await WriteJsonAsync(context, 400, GoogleError(400, "Invalid JSON payload received. " + e.Message, "INVALID_ARGUMENT")).ConfigureAwait(false);
            return;
        }

        // countTokens takes the contents alone or a whole generateContentRequest (with its system and tools).
        if (method == "countTokens" && request?["generateContentRequest"] is JsonObject whole)
        {
            request = whole;
        }

        if (request?["contents"] is not JsonArray { Count: > 0 } contents)
        {
            await WriteJsonAsync(context, 400, GoogleError(400, "* GenerateContentRequest.contents: contents is not specified", "INVALID_ARGUMENT")).ConfigureAwait(false);
            return;
        }

        // Google's own API refuses the provider page's OpenAI-shaped tool; the Mix backend takes it. A request that asks
        // the simulator to play Google (x-simulator-strict-google: 1) gets Google's refusal.
        if (context.Request.Headers["x-simulator-strict-google"] == "1" && request["tools"] is JsonArray strictTools
            && strictTools.Select((tool, i) => (tool, i)).FirstOrDefault(t => t.tool is JsonObject o && o.ContainsKey("function")) is { tool: not null } unknown)
        {
            await WriteJsonAsync(context, 400, GoogleError(400, $"Invalid JSON payload received. Unknown name \"function\" at 'tools[{unknown.i}]': Cannot find field.", "INVALID_ARGUMENT")).ConfigureAwait(false);
            return;
        }

        var generates = method is "generateContent" or "streamGenerateContent";
        if (generates && SignsFunctionCalls(model) && MissingThoughtSignature(contents) is { } missing)
        {
            await WriteJsonAsync(context, 400, GoogleError(400, missing, "INVALID_ARGUMENT")).ConfigureAwait(false);
            return;
        }

        var promptTokens = Math.Max(1, Encoding.UTF8.GetByteCount(body) / 4);
        var words = GeminiStructuredOutput(request) is { } json ? JsonPieces(json) : Reply(GeminiPrompt(contents));
        var function = generates && SignsFunctionCalls(model) ? FunctionToCall(request, contents) : null;
        var delay = Setting(context, "x-simulator-latency-ms", options.FirstByteDelay);
        await Task.Delay(delay, context.RequestAborted).ConfigureAwait(false);

        switch (method)
        {
            case "generateContent" or "streamGenerateContent" when function is not null:
                await ReplyWithFunctionCallAsync(context, options, state, model, function, promptTokens, stream: method == "streamGenerateContent").ConfigureAwait(false);
                break;
            case "generateContent":
                await WriteJsonAsync(context, 200, GeminiResponse(model, string.Concat(words), promptTokens, words.Length, finished: true).ToJsonString()).ConfigureAwait(false);
                break;
            case "streamGenerateContent":
                await StreamGeminiAsync(context, options, model, words, promptTokens).ConfigureAwait(false);
                break;
            case "countTokens":
                await WriteJsonAsync(context, 200, $$"""{"totalTokens":{{promptTokens}}}""").ConfigureAwait(false);
                break;
            default:
                await WriteJsonAsync(context, 404, GoogleError(404, $"Method '{method}' is not found.", "NOT_FOUND")).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Google's model list (what a health probe asks for: it costs no tokens), behind the same key check.</summary>
    private static async Task ListModelsAsync(HttpContext context, SimulatorOptions options, SimulatorState state)
    {
        await RecordAsync(context, state).ConfigureAwait(false);
        if (!Authorized(context, options, allowQueryKey: true))
        {
            await WriteJsonAsync(context, 400, """{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}""").ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, 200, """{"models":[{"name":"models/gemini-3.1-pro-preview"},{"name":"models/gemini-2.5-flash"}]}""").ConfigureAwait(false);
    }

    private static Task StreamGeminiAsync(HttpContext context, SimulatorOptions options, string model, string[] words, int promptTokens)
    {
        var emitted = 0;
        var chunks = Split(words, Setting(context, "x-simulator-chunks", options.StreamChunks));
        var events = chunks.Select((chunk, i) => GeminiResponse(model, string.Concat(chunk), promptTokens, emitted += chunk.Length, finished: i == chunks.Count - 1)).ToList();
        return WriteGeminiStreamAsync(context, events, Setting(context, "x-simulator-chunk-interval-ms", options.ChunkInterval));
    }

    /// <summary>Gemini's stream: SSE with <c>alt=sse</c> (framed with CRLF, as Google frames it), else one JSON array written piece by piece.</summary>
    private static async Task WriteGeminiStreamAsync(HttpContext context, List<JsonObject> events, TimeSpan interval)
    {
        var sse = context.Request.Query["alt"] == "sse";
        context.Response.StatusCode = 200;
        context.Response.ContentType = sse ? "text/event-stream" : "application/json; charset=UTF-8";
        if (!sse)
        {
            await context.Response.WriteAsync("[", context.RequestAborted).ConfigureAwait(false);
        }

        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0)
            {
                await Task.Delay(interval, context.RequestAborted).ConfigureAwait(false);
            }

            var json = events[i].ToJsonString();
            var frame = sse ? "data: " + json + "\r\n\r\n" : (i > 0 ? ",\r\n" : string.Empty) + json;
            await context.Response.WriteAsync(frame, context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }

        if (!sse)
        {
            await context.Response.WriteAsync("]", context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static JsonObject GeminiResponse(string model, string text, int promptTokens, int candidateTokens, bool finished) =>
        GeminiResponse(model, new JsonArray(new JsonObject { ["text"] = text }), promptTokens, candidateTokens, finished);

    /// <summary>One candidate with these parts; without parts (the last event of a stream that said it all) it has no content, only its finish.</summary>
    private static JsonObject GeminiResponse(string model, JsonArray? parts, int promptTokens, int candidateTokens, bool finished)
    {
        var candidate = new JsonObject();
        if (parts is not null)
        {
            candidate["content"] = new JsonObject { ["parts"] = parts, ["role"] = "model" };
        }

        candidate["index"] = 0;

        if (finished)
        {
            candidate["finishReason"] = "STOP";
        }

        return new JsonObject
        {
            ["candidates"] = new JsonArray(candidate),
            ["usageMetadata"] = new JsonObject
            {
                ["promptTokenCount"] = promptTokens,
                ["candidatesTokenCount"] = candidateTokens,
                ["totalTokenCount"] = promptTokens + candidateTokens,
            },
            ["modelVersion"] = model,
            ["responseId"] = "sim-" + RandomNumberGenerator.GetHexString(16, lowercase: true),
        };
    }

    private static async Task HandleChatAsync(HttpContext context, SimulatorOptions options, SimulatorState state)
    {
        var body = await RecordAsync(context, state).ConfigureAwait(false);
        if (!Authorized(context, options, allowQueryKey: false))
        {
            await WriteJsonAsync(context, 401, OpenAIInvalidKey).ConfigureAwait(false);
            return;
        }

        if (await TryScriptedAsync(context, state).ConfigureAwait(false) || await TryInjectedErrorAsync(context, options, gemini: false).ConfigureAwait(false))
        {
            return;
        }

        JsonNode? request;
        try
        {
            request = JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            await WriteJsonAsync(context, 400, OpenAIError("Invalid JSON: " + e.Message)).ConfigureAwait(false);
            return;
        }

        if (request?["messages"] is not JsonArray { Count: > 0 } messages || request["model"]?.GetValue<string>() is not { } model)
        {
            await WriteJsonAsync(context, 400, OpenAIError("'model' and a non-empty 'messages' array are required.")).ConfigureAwait(false);
            return;
        }

        var last = messages.LastOrDefault();
        var prompt = last?["content"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>())),
            _ => string.Empty,
        };
        var promptTokens = Math.Max(1, Encoding.UTF8.GetByteCount(body) / 4);
        var words = ChatStructuredOutput(request) is { } json
            ? JsonPieces(json)
            : Reply(last?["role"]?.GetValue<string>() == "tool" ? "tool result " + prompt : prompt);

        // With tools on offer and a user turn last, the simulated model calls the first function.
        var toolName = last?["role"]?.GetValue<string>() == "user" && request["tools"] is JsonArray { Count: > 0 } tools
            ? tools[0]?["function"]?["name"]?.GetValue<string>()
            : null;
        await Task.Delay(Setting(context, "x-simulator-latency-ms", options.FirstByteDelay), context.RequestAborted).ConfigureAwait(false);
        var id = "chatcmpl-sim" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var usage = new JsonObject { ["prompt_tokens"] = promptTokens, ["completion_tokens"] = words.Length, ["total_tokens"] = promptTokens + words.Length };

        if (toolName is not null)
        {
            await ReplyWithToolCallAsync(context, request, id, created, model, toolName, promptTokens, options).ConfigureAwait(false);
            return;
        }

        if (request["stream"]?.GetValue<bool>() != true)
        {
            var completion = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = string.Concat(words) },
                    ["finish_reason"] = "stop",
                }),
                ["usage"] = usage,
            };
            await WriteJsonAsync(context, 200, completion.ToJsonString()).ConfigureAwait(false);
            return;
        }

        var includeUsage = request["stream_options"]?["include_usage"]?.GetValue<bool>() == true;
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        var interval = Setting(context, "x-simulator-chunk-interval-ms", options.ChunkInterval);
        var chunks = Split(words, Setting(context, "x-simulator-chunks", options.StreamChunks));
        for (var i = 0; i <= chunks.Count; i++)
        {
            if (i > 0)
            {
                await Task.Delay(interval, context.RequestAborted).ConfigureAwait(false);
            }

            var delta = i < chunks.Count ? new JsonObject { ["content"] = string.Concat(chunks[i]) } : new JsonObject();
            if (i == 0)
            {
                delta["role"] = "assistant";
            }

            var chunk = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion.chunk",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = i < chunks.Count ? null : "stop" }),
            };
            await WriteEventAsync(context, chunk.ToJsonString()).ConfigureAwait(false);
        }

        if (includeUsage)
        {
            var chunk = new JsonObject { ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model, ["choices"] = new JsonArray(), ["usage"] = usage.DeepClone() };
            await WriteEventAsync(context, chunk.ToJsonString()).ConfigureAwait(false);
        }

        await WriteEventAsync(context, "[DONE]").ConfigureAwait(false);
    }

    private static async Task ReplyWithToolCallAsync(HttpContext context, JsonNode request, string id, long created, string model, string toolName, int promptTokens, SimulatorOptions options)
    {
        var callId = "call_sim" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        var usage = new JsonObject { ["prompt_tokens"] = promptTokens, ["completion_tokens"] = 7, ["total_tokens"] = promptTokens + 7 };
        if (request["stream"]?.GetValue<bool>() != true)
        {
            var completion = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject
                    {
                        ["role"] = "assistant",
                        ["content"] = null,
                        ["tool_calls"] = new JsonArray(new JsonObject { ["id"] = callId, ["type"] = "function", ["function"] = new JsonObject { ["name"] = toolName, ["arguments"] = ToolCallArguments } }),
                    },
                    ["finish_reason"] = "tool_calls",
                }),
                ["usage"] = usage,
            };
            await WriteJsonAsync(context, 200, completion.ToJsonString()).ConfigureAwait(false);
            return;
        }

        // As OpenAI streams it: id and name in the first fragment, the arguments in pieces, then the finish.
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        JsonObject Chunk(JsonObject delta, string? finish) => new()
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
        };
        JsonObject Fragment(JsonObject function, string? callIdentifier) => new()
        {
            ["tool_calls"] = new JsonArray(callIdentifier is null
                ? new JsonObject { ["index"] = 0, ["function"] = function }
                : new JsonObject { ["index"] = 0, ["id"] = callIdentifier, ["type"] = "function", ["function"] = function }),
        };
        var half = ToolCallArguments.Length / 2;
        await WriteEventAsync(context, Chunk(new JsonObject { ["role"] = "assistant", ["content"] = null }, null).ToJsonString()).ConfigureAwait(false);
        await WriteEventAsync(context, Chunk(Fragment(new JsonObject { ["name"] = toolName, ["arguments"] = string.Empty }, callId), null).ToJsonString()).ConfigureAwait(false);
        await Task.Delay(options.ChunkInterval, context.RequestAborted).ConfigureAwait(false);
        await WriteEventAsync(context, Chunk(Fragment(new JsonObject { ["arguments"] = ToolCallArguments[..half] }, null), null).ToJsonString()).ConfigureAwait(false);
        await WriteEventAsync(context, Chunk(Fragment(new JsonObject { ["arguments"] = ToolCallArguments[half..] }, null), null).ToJsonString()).ConfigureAwait(false);
        await WriteEventAsync(context, Chunk(new JsonObject(), "tool_calls").ToJsonString()).ConfigureAwait(false);
        if (request["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
        {
            await WriteEventAsync(context, new JsonObject { ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model, ["choices"] = new JsonArray(), ["usage"] = usage }.ToJsonString()).ConfigureAwait(false);
        }

        await WriteEventAsync(context, "[DONE]").ConfigureAwait(false);
    }

    private static async Task WriteEventAsync(HttpContext context, string data)
    {
        await context.Response.WriteAsync("data: " + data + "\n\n", context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends the next scripted reply, if any. With <paramref name="namedEvents"/> (the Responses stream) an event whose
    /// data is a JSON object with a <c>type</c> is preceded by <c>event: &lt;type&gt;</c>.
    /// </summary>
    private static async Task<bool> TryScriptedAsync(HttpContext context, SimulatorState state, bool namedEvents = false)
    {
        if (!state.TryDequeue(out var reply))
        {
            return false;
        }

        context.Response.StatusCode = reply.Status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value; // a Content-Type here replaces the JSON one (an HTML error page, say)
        }

        if (reply.Events is null)
        {
            await context.Response.WriteAsync(reply.Body ?? "{}", context.RequestAborted).ConfigureAwait(false);
            return true;
        }

        context.Response.ContentType = "text/event-stream";
        var first = true;
        var index = 0;
        foreach (var data in reply.AbortAfterEvents is { } sent ? reply.Events.Take(sent) : reply.Events)
        {
            if (reply.BeforeEvent is { } gate)
            {
                await gate(index).WaitAsync(context.RequestAborted).ConfigureAwait(false);
            }

            index++;
            if (!first && reply.EventInterval is { } pause)
            {
                await Task.Delay(pause, context.RequestAborted).ConfigureAwait(false);
            }

            first = false;
            var name = namedEvents && EventType(data) is { } type ? "event: " + type + LineEnding(reply.EventDelimiter) : string.Empty;
            await context.Response.WriteAsync(name + "data: " + data + reply.EventDelimiter, context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }

        if (reply.AbortAfterEvents is not null)
        {
            // The headers go out even with no event before the break, so the caller gets a response that breaks off.
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            if (reply.BeforeEvent is { } gate)
            {
                await gate(index).WaitAsync(context.RequestAborted).ConfigureAwait(false);
            }

            context.Abort();
        }

        return true;
    }

    /// <summary>The <c>type</c> of an event's JSON object; null for anything else (a test may script malformed data on purpose).</summary>
    private static string? EventType(string data)
    {
        try
        {
            return JsonNode.Parse(data) is JsonObject o && o["type"] is JsonValue v && v.TryGetValue<string>(out var type) ? type : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string LineEnding(string delimiter) =>
        delimiter.StartsWith("\r\n", StringComparison.Ordinal) ? "\r\n" : delimiter.StartsWith('\r') ? "\r" : "\n";

    private static async Task<bool> TryInjectedErrorAsync(HttpContext context, SimulatorOptions options, bool gemini)
    {
        var forced = context.Request.Headers["x-simulator-error"];
        int status;
        if (!StringValues.IsNullOrEmpty(forced) && int.TryParse(forced, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s))
        {
            status = s;
        }
        else if (options.ErrorRate > 0 && Random.Shared.NextDouble() < options.ErrorRate)
        {
            status = options.InjectedErrorStatus;
        }
        else
        {
            return false;
        }

        var message = status == 429 ? "Resource has been exhausted (e.g. check quota)." : $"Simulated upstream error {status}.";
        string body;
        if (gemini)
        {
            var googleStatus = status switch { 400 => "INVALID_ARGUMENT", 404 => "NOT_FOUND", 429 => "RESOURCE_EXHAUSTED", 503 => "UNAVAILABLE", 504 => "DEADLINE_EXCEEDED", _ => "INTERNAL" };
            body = status == 429
                ? """{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}"""
                : GoogleError(status, message, googleStatus);
        }
        else
        {
            body = OpenAIError(message);
        }

        await WriteJsonAsync(context, status, body).ConfigureAwait(false);
        return true;
    }

    private static bool Authorized(HttpContext context, SimulatorOptions options, bool allowQueryKey)
    {
        if (options.RequiredKey is null)
        {
            return true;
        }

        var header = context.Request.Headers.Authorization.ToString();
        return header == "Bearer " + options.RequiredKey
            || context.Request.Headers["x-goog-api-key"] == options.RequiredKey
            || (allowQueryKey && context.Request.Query["key"] == options.RequiredKey);
    }

    private static async Task<string> RecordAsync(HttpContext context, SimulatorState state)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        state.Record(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? string.Empty, context.Request.QueryString.Value ?? string.Empty, headers, body));
        return body;
    }

    private static Task WriteJsonAsync(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        return context.Response.WriteAsync(json, context.RequestAborted);
    }

    private static string GoogleError(int code, string message, string status) =>
        new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status } }.ToJsonString(GoogleJson);

    private static string OpenAIError(string message, string? param = null, string? code = null) =>
        new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = param, ["code"] = code } }.ToJsonString();

    private static string LastText(JsonArray contents)
    {
        var parts = contents[^1]?["parts"] as JsonArray;
        return parts?.Select(p => p?["text"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null).LastOrDefault(s => s is not null) ?? string.Empty;
    }

    /// <summary>
    /// The JSON the simulated model answers when the request asks for structured output: an instance of the
    /// <c>json_schema</c> format's schema, <c>{}</c> for <c>json_object</c>; null for a plain text answer.
    /// </summary>
    private static string? ChatStructuredOutput(JsonNode request) => request["response_format"] is JsonObject format
        ? StructuredOutput(format["type"], format["json_schema"]?["schema"])
        : null;

    /// <summary>An answer in the format OpenAI names (<c>json_schema</c> with its schema, <c>json_object</c>); null for text.</summary>
    private static string? StructuredOutput(JsonNode? type, JsonNode? schema) => (type is JsonValue v && v.TryGetValue<string>(out var t) ? t : null) switch
    {
        "json_schema" => SchemaInstance.For(schema)?.ToJsonString() ?? "null",
        "json_object" => "{}",
        _ => null,
    };

    /// <summary>JSON as pieces that end after each comma, so a stream carries it in several deltas that concatenate back.</summary>
    private static string[] JsonPieces(string json)
    {
        var pieces = json.Split(',');
        return pieces.Select((p, i) => i < pieces.Length - 1 ? p + "," : p).ToArray();
    }

    /// <summary>The reply as words with their trailing space, so chunks concatenate back to the exact text.</summary>
    private static string[] Reply(string prompt)
    {
        var echo = prompt.Length > 200 ? prompt[..200] : prompt;
        var text = "Hello from the MixProxy simulator. You said: " + echo;
        var words = text.Split(' ');
        return words.Select((w, i) => i < words.Length - 1 ? w + " " : w).ToArray();
    }

    private static List<string[]> Split(string[] words, int chunks)
    {
        chunks = Math.Clamp(chunks, 1, Math.Max(1, words.Length));
        var size = (int)Math.Ceiling(words.Length / (double)chunks);
        return words.Chunk(size).ToList();
    }

    private static int Setting(HttpContext context, string header, int fallback) =>
        int.TryParse(context.Request.Headers[header], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    private static TimeSpan Setting(HttpContext context, string header, TimeSpan fallback) =>
        int.TryParse(context.Request.Headers[header], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? TimeSpan.FromMilliseconds(ms) : fallback;
}
