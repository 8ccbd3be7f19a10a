using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// The Anthropic Messages API through the gateway with raw HTTP, over real sockets: a client that authenticates as
/// Anthropic's SDKs do (<c>x-api-key</c>, <c>anthropic-version</c>) gets Anthropic's shapes back from a Gemini or a
/// Chat Completions upstream, whole and streamed, with Anthropic's errors (including for paths under
/// <c>/v1/messages</c> that do not exist), its model list, token counting where the upstream can count, and the
/// gateway's limits, cache and metrics as for every other protocol.
/// </summary>
public sealed class AnthropicMessagesApiTests
{
    private const string Gemini = "gemini-3.1-pro-preview";

    private static readonly (string, string)[] Version = [("anthropic-version", "2023-06-01")];

    private static string Create(string model, string extra = "") =>
        $$"""{"model":"{{model}}","max_tokens":256,"messages":[{"role":"user","content":"Hello there"}]{{extra}}}""";

    /// <summary>A client as Anthropic's SDKs set one up: the key in x-api-key, no Authorization header.</summary>
    private static HttpClient AnthropicClient(GatewayFixture gateway, string key = GatewayFixture.ClientKey)
    {
        var client = gateway.CreateClient(key: null);
        client.DefaultRequestHeaders.Add("x-api-key", key);
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        return client;
    }

    private static void AssertAnthropicError(JsonNode? body, string type)
    {
        Assert.NotNull(body);
        Assert.Equal("error", body["type"]!.GetValue<string>());
        Assert.Equal(type, body["error"]!["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["error"]!["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Message_OnAGeminiModel_ComesBackInAnthropicsShape_AndTheKeyInXApiKeyNeverReachesTheUpstream()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = AnthropicClient(gateway);

        var (status, body, response) = await client.PostJsonAsync("/v1/messages?beta=true", Create(Gemini), ("anthropic-beta", "interleaved-thinking-2025-05-14"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("msg_", body!["id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("message", body["type"]!.GetValue<string>());
        Assert.Equal("assistant", body["role"]!.GetValue<string>());
        Assert.Equal(Gemini, body["model"]!.GetValue<string>());
        Assert.Equal("text", body["content"]![0]!["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["content"]![0]!["text"]!.GetValue<string>()));
        Assert.Equal("end_turn", body["stop_reason"]!.GetValue<string>());
        Assert.True(body["usage"]!["input_tokens"]!.GetValue<long>() > 0);
        Assert.True(body["usage"]!["output_tokens"]!.GetValue<long>() > 0);
        Assert.Equal("application/json", response.ContentType()!.MediaType);

        var sent = gateway.Upstream.Received.Last();
        Assert.Equal($"/v1beta/models/{Gemini}:generateContent", sent.Path);
        Assert.DoesNotContain("beta", sent.Query, StringComparison.Ordinal);
        Assert.DoesNotContain(sent.Headers, h => h.Value.Contains(GatewayFixture.ClientKey, StringComparison.Ordinal));
        Assert.Equal(256, JsonNode.Parse(sent.Body)!["generationConfig"]!["maxOutputTokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Stream_OnAGeminiModel_SpeaksAnthropicsNamedEvents_FromMessageStartToMessageStop()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = AnthropicClient(gateway);

        var (status, _, response) = await client.PostJsonAsync("/v1/messages", Create(Gemini, ""","stream":true"""));
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/event-stream", response.ContentType()!.MediaType);
        var events = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n')).Select(lines => (Name: lines[0]["event: ".Length..], Data: JsonNode.Parse(lines[1]["data: ".Length..])!)).ToList();
        Assert.All(events, e => Assert.Equal(e.Name, e.Data["type"]!.GetValue<string>()));
        Assert.Equal(["message_start", "ping", "content_block_start"], events.Take(3).Select(e => e.Name));
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], events.TakeLast(3).Select(e => e.Name));
        Assert.Contains(events, e => e.Data["delta"]?["type"]?.GetValue<string>() == "text_delta");
        var delta = events.Single(e => e.Name == "message_delta").Data;
        Assert.Equal("end_turn", delta["delta"]!["stop_reason"]!.GetValue<string>());
        Assert.True(delta["usage"]!["output_tokens"]!.GetValue<long>() > 0);
        Assert.Equal($"/v1beta/models/{Gemini}:streamGenerateContent", gateway.Upstream.Received.Last().Path);
    }

    [Fact]
    public async Task Message_OnAChatCompletionsModel_GoesUpAsAChatRequest_WithTopKDroppedAndReported()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = AnthropicClient(gateway);

        var (status, body, response) = await client.PostJsonAsync("/v1/messages", Create("gpt-4o-mini", ""","system":"Be brief.","top_k":5,"stop_sequences":["END"]"""));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text", body!["content"]![0]!["type"]!.GetValue<string>());
        Assert.Equal("top_k", response.Headers.GetValues("x-mixproxy-dropped").Single());
        var sent = gateway.Upstream.Received.Last();
        Assert.Equal("/v1/chat/completions", sent.Path);
        var chat = JsonNode.Parse(sent.Body)!;
        Assert.Equal("system", chat["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Equal("END", chat["stop"]![0]!.GetValue<string>());
        Assert.Null(chat["top_k"]);
    }

    [Fact]
    public async Task ToolUse_OnAGeminiModel_ComesBackAsAToolUseBlock_AndItsResultGoesBackAsAFunctionResponse()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = AnthropicClient(gateway);
        const string Tools = ""","tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],"tool_choice":{"type":"any"}""";

        var (status, body, _) = await client.PostJsonAsync("/v1/messages", Create(Gemini, Tools));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("tool_use", body!["stop_reason"]!.GetValue<string>());
        var call = body["content"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "tool_use")!;
        Assert.Equal("get_weather", call["name"]!.GetValue<string>());
        Assert.Equal(System.Text.Json.JsonValueKind.Object, call["input"]!.GetValueKind());

        // The client sends the assistant turn back as it got it (no thinking shown: the signature is remembered).
        var history = new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = "Hello there" },
            new JsonObject { ["role"] = "assistant", ["content"] = body["content"]!.DeepClone() },
            new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = call["id"]!.GetValue<string>(), ["content"] = "21°C" }) });
        var second = new JsonObject { ["model"] = Gemini, ["max_tokens"] = 256, ["messages"] = history, ["tools"] = JsonNode.Parse(Tools[",\"tools\":".Length..Tools.IndexOf(",\"tool_choice\"", StringComparison.Ordinal)]) };
        var (secondStatus, secondBody, _) = await client.PostJsonAsync("/v1/messages", second.ToJsonString());

        Assert.True(secondStatus == HttpStatusCode.OK, secondBody?.ToJsonString());
        var contents = JsonNode.Parse(gateway.Upstream.Received.Last().Body)!["contents"]!.AsArray();
        var modelCall = contents[1]!["parts"]!.AsArray().First(p => p!["functionCall"] is not null)!;
        Assert.False(string.IsNullOrEmpty(modelCall["thoughtSignature"]?.GetValue<string>()), "the signature Gemini issued went back");
        Assert.NotNull(contents[2]!["parts"]![0]!["functionResponse"]);
    }

    [Theory]
    [InlineData("""{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f1"}}]}]}""", "messages[0].content[0].source.type")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","max_tokens":10,"messages":[{"role":"user","content":"Hi"}],"thinking":{"type":"enabled","budget_tokens":10}}""", "thinking.budget_tokens")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","max_tokens":10,"messages":[{"role":"user","content":"Hi"}],"seed":1}""", "seed")]
    public async Task BadInput_IsA400InvalidRequestError_NamingTheField_AndReachesNoUpstream(string json, string field)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = AnthropicClient(gateway);

        var (status, body, _) = await client.PostJsonAsync("/v1/messages", json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertAnthropicError(body, "invalid_request_error");
        Assert.StartsWith(field, body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task GatewayErrors_AreAnthropicErrors_ForAMissingKey_AnUnknownModel_AndAnUnknownPathUnderMessages()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var anonymous = gateway.CreateClient(key: null);
        using var client = AnthropicClient(gateway);

        var (noKey, noKeyBody, _) = await anonymous.PostJsonAsync("/v1/messages", Create(Gemini), Version);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey);
        AssertAnthropicError(noKeyBody, "authentication_error");

        var (wrongKey, wrongKeyBody, _) = await AnthropicClient(gateway, "not-a-key").PostJsonAsync("/v1/messages", Create(Gemini));
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey);
        AssertAnthropicError(wrongKeyBody, "authentication_error");

        var (unknown, unknownBody, _) = await client.PostJsonAsync("/v1/messages", Create("claude-nonexistent"));
        Assert.Equal(HttpStatusCode.NotFound, unknown);
        AssertAnthropicError(unknownBody, "not_found_error");

        // Anthropic's SDKs would not parse an OpenAI error here; even without anthropic-version the path tells.
        var (batches, batchesBody, _) = await gateway.CreateClient().PostJsonAsync("/v1/messages/batches", "{}");
        Assert.Equal(HttpStatusCode.NotFound, batches);
        AssertAnthropicError(batchesBody, "not_found_error");
        Assert.Empty(gateway.Upstream.Received);
    }

    [Theory]
    [InlineData(429, """{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED"}}""", 429, "rate_limit_error")]
    [InlineData(503, """{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}""", 529, "overloaded_error")]
    public async Task UpstreamRefusal_IsAnAnthropicError_A429RateLimitError_OrAn503OverloadAs529(int upstreamStatus, string upstreamBody, int status, string type)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = AnthropicClient(gateway);
        gateway.Upstream.Enqueue(new ScriptedReply(upstreamStatus, upstreamBody));

        var (actual, body, _) = await client.PostJsonAsync("/v1/messages", Create(Gemini));

        Assert.Equal(status, (int)actual);
        AssertAnthropicError(body, type);
    }

    [Fact]
    public async Task ModelList_IsAnthropicsForClientsThatSendAnthropicVersion_AndOpenAIsForOthers()
    {
        await using var gateway = await GatewayFixture.StartAsync();

        var (status, list) = await gateway.CreateClient().GetJsonAsync("/v1/models", Version);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.All(list!["data"]!.AsArray(), model => Assert.Equal("model", model!["type"]!.GetValue<string>()));
        Assert.Contains(list["data"]!.AsArray(), model => model!["id"]!.GetValue<string>() == Gemini);
        Assert.False(list["has_more"]!.GetValue<bool>());

        var (oneStatus, one) = await AnthropicClient(gateway).GetJsonAsync($"/v1/models/{Gemini}");
        Assert.Equal(HttpStatusCode.OK, oneStatus);
        Assert.Equal(Gemini, one!["id"]!.GetValue<string>());
        Assert.Equal("model", one["type"]!.GetValue<string>());

        var (_, openAI) = await gateway.CreateClient().GetJsonAsync("/v1/models");
        Assert.Equal("list", openAI!["object"]!.GetValue<string>());
    }

    [Fact]
    public async Task CountTokens_OnGemini_AsksCountTokens_AndOnAChatUpstreamIsA501InAnthropicsShape()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = AnthropicClient(gateway);
        const string Count = """{"model":"gemini-3.1-pro-preview","system":"Be brief.","messages":[{"role":"user","content":"How many tokens is this?"}]}""";

        var (status, body, _) = await client.PostJsonAsync("/v1/messages/count_tokens?beta=true", Count);

        Assert.True(status == HttpStatusCode.OK, body?.ToJsonString());
        Assert.True(body!["input_tokens"]!.GetValue<long>() > 0);
        var sent = gateway.Upstream.Received.Last();
        Assert.Equal($"/v1beta/models/{Gemini}:countTokens", sent.Path);
        Assert.NotNull(JsonNode.Parse(sent.Body)!["generateContentRequest"]!["systemInstruction"]);

        var (chatStatus, chatBody, _) = await client.PostJsonAsync("/v1/messages/count_tokens", Count.Replace(Gemini, "gpt-4o-mini", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotImplemented, chatStatus);
        AssertAnthropicError(chatBody, "api_error");
    }

    [Fact]
    public async Task Messages_AreCachedChargedAndMeasured_AsTheOtherProtocolsAre()
    {
        var key = new LimitedKey(new JsonObject { ["TokensPerMinute"] = 100_000 });
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo);
        using var client = AnthropicClient(gateway, key.Value);
        static string? CacheHeader(HttpResponseMessage response) => response.Headers.TryGetValues("x-mixproxy-cache", out var values) ? values.Single() : null;

        var (_, first, firstResponse) = await client.PostJsonAsync("/v1/messages", Create(Gemini), ("x-mixproxy-cache", "on"));
        var (_, second, secondResponse) = await client.PostJsonAsync("/v1/messages", Create(Gemini), ("x-mixproxy-cache", "on"));
        Assert.Equal("miss", CacheHeader(firstResponse));
        Assert.Equal("hit", CacheHeader(secondResponse));
        Assert.True(JsonNode.DeepEquals(first, second));
        Assert.Single(gateway.Upstream.Received);
        Assert.True(firstResponse.Headers.Contains("x-ratelimit-remaining-tokens") || firstResponse.Headers.Contains("x-ratelimit-limit-tokens"), string.Join(", ", firstResponse.Headers.Select(h => h.Key)));

        var page = await gateway.CreateClient().GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("gen_ai_operation_name=\"messages\"", page, StringComparison.Ordinal);
        Assert.Contains("gen_ai_provider_name=\"gcp.gemini\"", page, StringComparison.Ordinal);
    }
}
