using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// An upstream whose stream ends cleanly but before the answer did (no finish reason; on a Chat upstream no
/// <c>[DONE]</c> either): a cut, not a finish. A client that has part of the answer gets it, then its own protocol's
/// mid-stream error event, never a made-up stop; a client that has nothing yet gets 502 in its protocol, never 200 with
/// an empty body. Such an answer is not cached and is logged as an upstream break-off.
/// </summary>
public sealed class TruncatedStreamTests
{
    private const string UpstreamStopped = "The upstream stopped mid-answer; the stream was ended.";

    private const string GeminiText = """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"half an "}]}}]}""";
    private const string ChatRole = """{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""";
    private const string ChatText = """{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"half an "},"finish_reason":null}]}""";

    [Fact]
    public async Task ChatStream_GeminiUpstreamEndsWithoutFinishReason_ClientGetsTheTextThenAnErrorEvent_NoStopNoDone_NotCached()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        const string Ask = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""";
        gateway.Upstream.Enqueue(new ScriptedReply(Events: [GeminiText]));

        var (status, _, response) = await client.PostJsonAsync("/v1/chat/completions", Ask, ("x-mixproxy-cache", "on"));
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        var events = SseData(text);
        Assert.Equal("half an ", JsonNode.Parse(events[0])!["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        var error = JsonNode.Parse(events[^1])!["error"]!;
        Assert.Equal(UpstreamStopped, error["message"]!.GetValue<string>());
        Assert.Equal("server_error", error["type"]!.GetValue<string>());
        Assert.DoesNotContain("\"finish_reason\":\"stop\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        AssertLoggedAsAnUpstreamBreakOff(gateway);

        // Asked again, it goes to the upstream again (the simulator's own answer this time): the cut one was not kept.
        var (_, _, again) = await client.PostJsonAsync("/v1/chat/completions", Ask, ("x-mixproxy-cache", "on"));
        Assert.EndsWith("data: [DONE]\n\n", await again.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(2, gateway.Upstream.Received.Count);
    }

    [Fact]
    public async Task ChatStream_GeminiUpstreamSendsNoEventAtAll_ClientGets502InOpenAIShape()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Events: []));

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions",
            """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        HttpHelpers.AssertOpenAIError(body);
        Assert.Single(gateway.Upstream.Received);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StreamGenerateContent_OpenAIUpstreamCutAfterText_GeminiClientGetsTheTextThenAnUnavailableError(bool sse)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Events: [ChatRole, ChatText]));

        var (status, _, response) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:streamGenerateContent" + (sse ? "?alt=sse" : string.Empty),
            """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""");
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        var events = sse ? SseData(text).Select(e => JsonNode.Parse(e)!).ToList() : JsonNode.Parse(text)!.AsArray().Select(e => e!).ToList();
        Assert.Equal("half an ", events[0]["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.DoesNotContain(events, e => e["candidates"]?[0]?["finishReason"] is not null);
        HttpHelpers.AssertGoogleError(events[^1], 502, "UNAVAILABLE");
        AssertLoggedAsAnUpstreamBreakOff(gateway);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StreamGenerateContent_OpenAIUpstreamCutAfterTheRoleChunk_GeminiClientGets502NotAnEmptyBody(bool sse)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Events: [ChatRole]));

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:streamGenerateContent" + (sse ? "?alt=sse" : string.Empty),
            """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        HttpHelpers.AssertGoogleError(body, 502, "UNAVAILABLE");
    }

    [Theory]
    [InlineData("gemini-3.1-pro-preview", GeminiText)]
    [InlineData("gpt-4o-mini", ChatText)]
    public async Task ResponsesStream_EitherUpstreamEndsWithoutFinish_EndsWithResponseFailed(string model, string cutEvent)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Events: [cutEvent]));

        var (status, _, response) = await client.PostJsonAsync("/v1/responses", $$"""{"model":"{{model}}","input":"Hi","stream":true,"store":false}""");
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        var last = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("event: response.failed\n", last, StringComparison.Ordinal);
        var failed = JsonNode.Parse(last[(last.IndexOf("data: ", StringComparison.Ordinal) + "data: ".Length)..])!["response"]!;
        Assert.Equal(UpstreamStopped, failed["error"]!["message"]!.GetValue<string>());
        Assert.Contains("half an ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("response.completed", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponsesStream_UpstreamSendsNothing_ClientGets502InOpenAIShape()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Events: []));

        var (status, body, _) = await client.PostJsonAsync("/v1/responses", """{"model":"gemini-3.1-pro-preview","input":"Hi","stream":true,"store":false}""");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        HttpHelpers.AssertOpenAIError(body);
    }

    [Fact]
    public async Task ChatPassthroughStream_UpstreamEndsWithoutFinishOrDone_ClientGetsTheChunksAsTheyCameThenAnErrorEvent()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Events: [ChatRole, ChatText]));

        var (status, _, response) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}""");
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        var events = SseData(text);
        Assert.Equal([ChatRole, ChatText], events[..^1]);
        Assert.Equal(UpstreamStopped, JsonNode.Parse(events[^1])!["error"]!["message"]!.GetValue<string>());
        AssertLoggedAsAnUpstreamBreakOff(gateway);
    }

    [Fact]
    public async Task GeminiPassthroughStream_UpstreamEndsWithoutFinishReason_ClientGetsTheEventsThenAnUnavailableError()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Events: [GeminiText]));

        var (status, _, response) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse",
            """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""");
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        var events = SseData(text).Where(e => e.Trim().Length > 0).ToList();
        Assert.Equal(GeminiText, events[0]);
        HttpHelpers.AssertGoogleError(JsonNode.Parse(events[^1]), 502, "UNAVAILABLE");
        AssertLoggedAsAnUpstreamBreakOff(gateway);
    }

    [Fact]
    public async Task GeminiPassthroughStream_UpstreamSendsNothing_ClientGets502InGoogleShape()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Events: []));

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse",
            """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        HttpHelpers.AssertGoogleError(body, 502, "UNAVAILABLE");
    }

    private static void AssertLoggedAsAnUpstreamBreakOff(GatewayFixture gateway)
    {
        Assert.Contains(gateway.Logs.Lines, line => line.StartsWith("Warning MixProxy.Proxy.ExchangeMiddleware[205]", StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.Logs.Lines, line => line.Contains("[202]", StringComparison.Ordinal));
    }

    private static List<string> SseData(string sse) =>
        sse.Replace("\r\n", "\n", StringComparison.Ordinal)
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.StartsWith("data: ", StringComparison.Ordinal) ? e["data: ".Length..] : e)
            .ToList();
}
