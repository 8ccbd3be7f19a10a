using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// An upstream whose connection breaks off mid-stream, after the client got part of the answer: the client gets that
/// part once, then an error event in its own protocol saying the upstream stopped, and a response that ends normally
/// (no transport error); the gateway logs a warning, not a bug, and does not call the upstream again.
/// </summary>
public sealed class UpstreamBreakOffTests
{
    private const string UpstreamStopped = "The upstream stopped mid-answer; the stream was ended.";

    [Fact]
    public async Task ChatStream_GeminiUpstreamBreaksOffAfterTwoChunks_ClientGetsBothOnceThenAnErrorEvent()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, text) = await StreamUntilTheUpstreamBreaksOffAsync(gateway, client, "/v1/chat/completions",
            """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""",
            "two ",
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"one "}]}}]}""",
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"two "}]}}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var events = SseData(text).Select(e => JsonNode.Parse(e)!).ToList();
        Assert.Equal("one two ", string.Concat(events[..^1].Select(e => e["choices"]![0]!["delta"]!["content"]?.GetValue<string>())));
        var error = events[^1]["error"]!;
        Assert.Equal(UpstreamStopped, error["message"]!.GetValue<string>());
        Assert.Equal("server_error", error["type"]!.GetValue<string>());
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        AssertLoggedAsAnUpstreamBreakOff(gateway);
        Assert.Single(gateway.Upstream.Received);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StreamGenerateContent_OpenAIUpstreamBreaksOffAfterTwoChunks_GeminiClientGetsBothOnceThenAnUnavailableError(bool sse)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, text) = await StreamUntilTheUpstreamBreaksOffAsync(gateway, client,
            "/v1beta/models/gpt-4o-mini:streamGenerateContent" + (sse ? "?alt=sse" : string.Empty),
            """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""",
            "two ",
            """{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"one "},"finish_reason":null}]}""",
            """{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"two "},"finish_reason":null}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var events = sse ? SseData(text).Select(e => JsonNode.Parse(e)!).ToList() : JsonNode.Parse(text)!.AsArray().Select(e => e!).ToList();
        Assert.Equal("one two ", string.Concat(events[..^1].Select(e => e["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>())));
        HttpHelpers.AssertGoogleError(events[^1], 502, "UNAVAILABLE");
        Assert.Equal(UpstreamStopped, events[^1]["error"]!["message"]!.GetValue<string>());
        AssertLoggedAsAnUpstreamBreakOff(gateway);
        Assert.Single(gateway.Upstream.Received);
    }

    [Fact]
    public async Task GeminiPassthroughStream_UpstreamBreaksOffAfterTwoChunks_ClientGetsBothAsSentThenAnUnavailableError()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, text) = await StreamUntilTheUpstreamBreaksOffAsync(gateway, client,
            "/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse",
            """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""",
            "two ",
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"one "}]}}]}""",
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"two "}]}}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var events = SseData(text).Where(e => e.Trim().Length > 0).Select(e => JsonNode.Parse(e)!).ToList();
        Assert.Equal("one two ", string.Concat(events[..^1].Select(e => e["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>())));
        HttpHelpers.AssertGoogleError(events[^1], 502, "UNAVAILABLE");
        Assert.Equal(UpstreamStopped, events[^1]["error"]!["message"]!.GetValue<string>());
        AssertLoggedAsAnUpstreamBreakOff(gateway);
        Assert.Single(gateway.Upstream.Received);
    }

    [Fact]
    public async Task ResponsesPassthroughStream_UpstreamBreaksOffMidway_ClientGetsAnErrorEventNotACut()
    {
        await using var gateway = await GatewayFixture.StartAsync(config => config["Models"]!.AsArray().Add(new JsonObject { ["Name"] = "house-responses", ["Cluster"] = "sim", ["Protocols"] = new JsonArray("OpenAIResponses") }));
        using var client = gateway.CreateClient();

        var (status, text) = await StreamUntilTheUpstreamBreaksOffAsync(gateway, client, "/v1/responses",
            """{"model":"house-responses","input":"Hi","stream":true,"store":false}""",
            "two ",
            """{"type":"response.created","sequence_number":0,"response":{"id":"resp_u","object":"response","status":"in_progress","output":[]}}""",
            """{"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_u","output_index":0,"content_index":0,"delta":"two "}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var last = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("event: error\ndata: ", last, StringComparison.Ordinal);
        var error = JsonNode.Parse(last["event: error\ndata: ".Length..])!;
        Assert.Equal("error", error["type"]!.GetValue<string>());
        Assert.Equal(UpstreamStopped, error["message"]!.GetValue<string>());
        AssertLoggedAsAnUpstreamBreakOff(gateway);
    }

    /// <summary>
    /// Streams a request whose upstream sends <paramref name="events"/> and then breaks off, the break held until the
    /// client has <paramref name="lastText"/>, the last event's text (the simulator's break drops what has not reached
    /// its socket yet). Reading to the end throws if the client's own connection is cut.
    /// </summary>
    private static async Task<(HttpStatusCode Status, string Text)> StreamUntilTheUpstreamBreaksOffAsync(
        GatewayFixture gateway, HttpClient client, string path, string json, string lastText, params string[] events)
    {
        var seenAll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gateway.Upstream.Enqueue(new ScriptedReply(Events: events) { AbortAfterEvents = events.Length, BeforeEvent = i => i < events.Length ? Task.CompletedTask : seenAll.Task });

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        while (!Encoding.UTF8.GetString(received.ToArray()).Contains(lastText, StringComparison.Ordinal))
        {
            var read = await body.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.True(read > 0, "the stream ended before the upstream's events came through: " + Encoding.UTF8.GetString(received.ToArray()));
            received.Write(buffer, 0, read);
        }

        seenAll.SetResult();
        await body.CopyToAsync(received, TestContext.Current.CancellationToken);
        return (response.StatusCode, Encoding.UTF8.GetString(received.ToArray()));
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
