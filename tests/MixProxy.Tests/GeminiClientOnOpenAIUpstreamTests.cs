using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>Gemini clients on a model whose upstream speaks only OpenAI Chat Completions: the reverse translation, end to end.</summary>
public sealed class GeminiClientOnOpenAIUpstreamTests
{
    private const string Ask = """
        {"systemInstruction":{"parts":[{"text":"Be brief."}]},
         "contents":[{"role":"user","parts":[{"text":"Hello"}]}],
         "generationConfig":{"maxOutputTokens":64,"temperature":0.3}}
        """;

    [Fact]
    public async Task GeminiCliDefaults_TopKIsDroppedAndReported_InAHeaderAndAMetric()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        // Google's Gemini CLI sends topK: 64 on every request; Chat Completions has no such knob.
        var (status, _, response) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:generateContent", """{"contents":[{"role":"user","parts":[{"text":"Hello"}]}],"generationConfig":{"temperature":1,"topP":0.95,"topK":64}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("generationConfig.topK", response.Headers.GetValues("x-mixproxy-dropped").Single());
        Assert.False(JsonNode.Parse(gateway.Upstream.Received.Single().Body)!.AsObject().ContainsKey("top_k"));
        var page = await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("mixproxy_translation_dropped_total{", page, StringComparison.Ordinal);
        Assert.Contains("mixproxy_field=\"generationConfig.topK\"", page, StringComparison.Ordinal);
    }

    /// <summary>
    /// The upstream's bookkeeping (<c>system_fingerprint</c>) and another provider's extra have no place in a Gemini
    /// answer: they are dropped and reported, in <c>x-mixproxy-dropped-answer</c> for a whole answer and in the metric
    /// (by direction) for both; a stream's headers are out before its chunks are read.
    /// </summary>
    [Fact]
    public async Task AnswerFieldsWithoutAGeminiPlace_AreReported_InAHeaderForAWholeAnswer_AndInTheMetric()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Body: """
            {"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp_1",
             "choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hi"}}],
             "usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4,"cost":0.0001}}
            """));
        gateway.Upstream.Enqueue(new ScriptedReply(Events:
        [
            """{"id":"c2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}""",
            """{"id":"c2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
            """{"id":"c2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}""",
            "[DONE]",
        ]));

        var (status, body, response) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:generateContent", Ask);
        var (streamStatus, _, streamResponse) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:streamGenerateContent?alt=sse", Ask);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Hi", body!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("system_fingerprint, usage.cost", response.Headers.GetValues("x-mixproxy-dropped-answer").Single());
        Assert.Equal(HttpStatusCode.OK, streamStatus);
        Assert.False(streamResponse.Headers.Contains("x-mixproxy-dropped-answer"));
        // Counted when the response is over, which a client that has read the whole answer can see first: read until it is (bounded).
        const string StreamSeries = "mixproxy_translation_dropped_total\\{[^}]*mixproxy_field=\"system_fingerprint\"[^}]*mixproxy_translation_direction=\"stream\"";
        var page = string.Empty;
        for (var attempt = 0; attempt < 50 && !System.Text.RegularExpressions.Regex.IsMatch(page, StreamSeries); attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 100, TestContext.Current.CancellationToken);
            page = await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        }

        Assert.Matches("mixproxy_translation_dropped_total\\{[^}]*mixproxy_field=\"system_fingerprint\"[^}]*mixproxy_translation_direction=\"response\"", page);
        Assert.Matches(StreamSeries, page);
    }

    [Fact]
    public async Task StrictModel_RefusesTopK_InGooglesShape()
    {
        await using var gateway = await GatewayFixture.StartAsync(config => config["Models"]!.AsArray().Add(new JsonObject { ["Name"] = "strict-gpt", ["Cluster"] = "sim", ["UpstreamModel"] = "gpt-4o-mini", ["Protocols"] = new JsonArray("OpenAI"), ["StrictTranslation"] = true }));
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/strict-gpt:generateContent", """{"contents":[{"role":"user","parts":[{"text":"Hello"}]}],"generationConfig":{"topK":64}}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertGoogleError(body, 400, "INVALID_ARGUMENT");
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task GenerateContent_IsTranslatedToChatCompletionsAndBack()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:generateContent", Ask);

        Assert.Equal(HttpStatusCode.OK, status);
        var upstream = Assert.Single(gateway.Upstream.Received);
        Assert.Equal("/v1/chat/completions", upstream.Path);
        Assert.Equal(string.Empty, upstream.Query);
        var sent = JsonNode.Parse(upstream.Body)!;
        Assert.Equal("gpt-4o-mini", sent["model"]!.GetValue<string>());
        Assert.Equal("system", sent["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Equal(64, sent["max_completion_tokens"]!.GetValue<int>());
        Assert.Equal("Hello from the MixProxy simulator. You said: Hello", body!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("STOP", body["candidates"]![0]!["finishReason"]!.GetValue<string>());
        Assert.Equal("gpt-4o-mini", body["modelVersion"]!.GetValue<string>());
        Assert.True(body["usageMetadata"]!["totalTokenCount"]!.GetValue<int>() > 0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StreamGenerateContent_IsServedAsSseOrAsAJsonArray_AsTheClientAsked(bool sse)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, _, response) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:streamGenerateContent" + (sse ? "?alt=sse" : string.Empty), Ask);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        var events = sse
            ? text.Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries).Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList()
            : JsonNode.Parse(text)!.AsArray().Select(e => e!).ToList();
        Assert.Equal(sse ? "text/event-stream" : "application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(events.Count > 2);
        var joined = string.Concat(events.SelectMany(e => e["candidates"]?.AsArray() ?? []).SelectMany(c => c!["content"]!["parts"]!.AsArray()).Select(p => p!["text"]?.GetValue<string>()));
        Assert.Equal("Hello from the MixProxy simulator. You said: Hello", joined);
        Assert.Equal("STOP", events[^1]["candidates"]![0]!["finishReason"]!.GetValue<string>());
        Assert.True(events[^1]["usageMetadata"]!["totalTokenCount"]!.GetValue<int>() > 0);
        Assert.True(JsonNode.Parse(Assert.Single(gateway.Upstream.Received).Body)!["stream"]!.GetValue<bool>());
    }

    [Fact]
    public async Task FunctionCalling_StreamedFragmentsBecomeOneFunctionCall_AndTheResponseGoesBackMatched()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        const string Tools = """[{"functionDeclarations":[{"name":"search","description":"Web search","parameters":{"type":"OBJECT","properties":{"query":{"type":"STRING"}},"required":["query"]}}]}]""";

        var (_, _, response) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:streamGenerateContent?alt=sse", $$"""{"contents":[{"role":"user","parts":[{"text":"Weather?"}]}],"tools":{{Tools}}}""");
        var events = (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries).Select(e => JsonNode.Parse(e[6..])!).ToList();
        var calls = events.SelectMany(e => e["candidates"]?.AsArray() ?? []).SelectMany(c => c!["content"]!["parts"]!.AsArray()).Where(p => p!["functionCall"] is not null).Select(p => p!["functionCall"]!).ToList();

        var call = Assert.Single(calls);
        Assert.Equal("search", call["name"]!.GetValue<string>());
        Assert.Equal("weather in Paris", call["args"]!["query"]!.GetValue<string>());
        var upstreamTools = JsonNode.Parse(gateway.Upstream.Received.First().Body)!["tools"]![0]!["function"]!;
        Assert.Equal("object", upstreamTools["parameters"]!["type"]!.GetValue<string>());

        // Second turn: the client returns the function's result, without an id, as Gemini clients may.
        var secondTurn = """
            {"contents":[{"role":"user","parts":[{"text":"Weather?"}]},
                         {"role":"model","parts":[{"functionCall":{"name":"search","args":{"query":"weather in Paris"}}}]},
                         {"role":"user","parts":[{"functionResponse":{"name":"search","response":{"output":"sunny"}}}]}],
             "tools":TOOLS}
            """.Replace("TOOLS", Tools, StringComparison.Ordinal);
        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:generateContent", secondTurn);

        Assert.Equal(HttpStatusCode.OK, status);
        var messages = JsonNode.Parse(gateway.Upstream.Received.Last().Body)!["messages"]!.AsArray();
        var assistant = messages.Single(m => m!["role"]!.GetValue<string>() == "assistant")!;
        var tool = messages.Single(m => m!["role"]!.GetValue<string>() == "tool")!;
        Assert.Equal(assistant["tool_calls"]![0]!["id"]!.GetValue<string>(), tool["tool_call_id"]!.GetValue<string>());
        Assert.Equal("sunny", tool["content"]!.GetValue<string>());
        Assert.Contains("tool result sunny", body!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamError_ComesBackInGoogleShape()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:generateContent", Ask, ("x-simulator-error", "429"));

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        HttpHelpers.AssertGoogleError(body, 429, "RESOURCE_EXHAUSTED");
    }

    [Fact]
    public async Task BuiltInGoogleSearch_OnAnOpenAIUpstream_IsRefusedWith400()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:generateContent", """{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"googleSearch":{}}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertGoogleError(body, 400, "INVALID_ARGUMENT");
        Assert.Empty(gateway.Upstream.Received);
    }
}
