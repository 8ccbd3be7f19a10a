using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using MixProxy.Lifecycle;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// SIGTERM drains the gateway: readiness fails at once, new requests are refused, the requests and streams in flight
/// finish, and the process exits 0 as soon as they have; a stream still open when the drain time runs out ends with an
/// error event in its client's protocol instead of a cut connection. The gateway runs as its own OS process here, so
/// the signal, the host's shutdown and the exit code are the real ones.
/// </summary>
public sealed class GracefulDrainTests
{
    private const string ChatOnGemini = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""";
    private const string ChatOnOpenAI = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}""";
    private const string GeminiRequest = """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""";

    [Fact]
    public async Task Sigterm_WithSlowStreamsInFlight_CompletesEveryStream_RefusesNewRequests_AndExitsZero()
    {
        await using var fixture = await GatewayFixture.StartAsync();
        fixture.UpstreamOptions.ChunkInterval = TimeSpan.FromMilliseconds(250); // 8 chunks: each stream runs ~2 s
        await using var gateway = await StartProcessAsync(fixture, drainTimeout: TimeSpan.FromSeconds(20));
        using var client = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFixture.ClientKey);

        var streams = new List<OpenStream>
        {
            await OpenStream.StartAsync(client, "/v1/chat/completions", ChatOnGemini),
            await OpenStream.StartAsync(client, "/v1/chat/completions", ChatOnOpenAI),
            await OpenStream.StartAsync(client, "/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse", GeminiRequest),
            await OpenStream.StartAsync(client, "/v1beta/models/gpt-4o-mini:streamGenerateContent?alt=sse", GeminiRequest),
        };

        var clock = Stopwatch.StartNew();
        gateway.Terminate();

        // Readiness fails at once (refused, or 503 on a connection that was still accepted), and so do new requests.
        Assert.True(await EventuallyAsync(async () => await StatusOrRefusedAsync(gateway, HttpMethod.Get, "/healthz/ready", null) != HttpStatusCode.OK, TimeSpan.FromSeconds(1)),
            "readiness still answered 200 a second after SIGTERM");
        Assert.NotEqual(HttpStatusCode.OK, await StatusOrRefusedAsync(gateway, HttpMethod.Post, "/v1/chat/completions", ChatOnOpenAI));

        // Every stream opened before the signal runs to its normal end.
        var texts = await Task.WhenAll(streams.Select(s => s.ReadToEndAsync()));
        Assert.EndsWith("data: [DONE]", texts[0].TrimEnd(), StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]", texts[1].TrimEnd(), StringComparison.Ordinal);
        Assert.Contains("\"finishReason\":\"STOP\"", texts[2], StringComparison.Ordinal);
        Assert.Contains("\"finishReason\":\"STOP\"", texts[3], StringComparison.Ordinal);
        Assert.All(texts, text => Assert.DoesNotContain("\"error\"", text, StringComparison.Ordinal));

        // Exits 0 once they are done, well before the 20 s drain time.
        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"exited after {clock.Elapsed}");
        Assert.Contains("[600]", gateway.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[601]", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_StreamsLongerThanTheDrainTime_EndWithAnErrorEventInTheirProtocol_NotACut()
    {
        await using var fixture = await GatewayFixture.StartAsync();
        await using var gateway = await StartProcessAsync(fixture, drainTimeout: TimeSpan.FromSeconds(1));
        using var client = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFixture.ClientKey);

        // Each upstream sends one event, then holds its stream open until the test ends.
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            fixture.Upstream.Enqueue(HeldOpen("""{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"one "}]}}]}"""));
            var chat = await OpenStream.StartAsync(client, "/v1/chat/completions", ChatOnGemini);
            fixture.Upstream.Enqueue(HeldOpen("""{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"one "},"finish_reason":null}]}"""));
            var gemini = await OpenStream.StartAsync(client, "/v1beta/models/gpt-4o-mini:streamGenerateContent?alt=sse", GeminiRequest);
            fixture.Upstream.Enqueue(HeldOpen("""{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"one "},"finish_reason":null}]}"""));
            var chatPassedThrough = await OpenStream.StartAsync(client, "/v1/chat/completions", ChatOnOpenAI);
            fixture.Upstream.Enqueue(HeldOpen("""{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"one "}]}}]}"""));
            var geminiPassedThrough = await OpenStream.StartAsync(client, "/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse", GeminiRequest);

            var clock = Stopwatch.StartNew();
            gateway.Terminate();

            // Reading to the end throws if a connection is cut; each ends with its protocol's error event instead.
            var chatEvents = SseData(await chat.ReadToEndAsync());
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), "the stream ended before the drain time ran out");
            Assert.Contains("one ", chatEvents[0], StringComparison.Ordinal);
            Assert.NotNull(JsonNode.Parse(chatEvents[^1])!["error"]!["message"]);
            Assert.DoesNotContain("[DONE]", chatEvents, StringComparer.Ordinal);

            var passedEvents = SseData(await chatPassedThrough.ReadToEndAsync());
            Assert.NotNull(JsonNode.Parse(passedEvents[^1])!["error"]!["message"]);

            var geminiEvents = SseData(await gemini.ReadToEndAsync());
            Assert.Contains("one ", geminiEvents[0], StringComparison.Ordinal);
            HttpHelpers.AssertGoogleError(JsonNode.Parse(geminiEvents[^1]), 502, "UNAVAILABLE");

            // Passed through untouched, the Gemini stream still ends with Google's error rather than a cut.
            var geminiPassedEvents = SseData(await geminiPassedThrough.ReadToEndAsync()).Where(e => e.Trim().Length > 0).ToList();
            Assert.Contains("one ", geminiPassedEvents[0], StringComparison.Ordinal);
            HttpHelpers.AssertGoogleError(JsonNode.Parse(geminiPassedEvents[^1]), 502, "UNAVAILABLE");

            Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            Assert.Contains("[601]", gateway.Output, StringComparison.Ordinal);
        }
        finally
        {
            hold.TrySetResult();
        }

        ScriptedReply HeldOpen(string first) => new(Events: [first, first]) { BeforeEvent = i => i == 0 ? Task.CompletedTask : hold.Task };
    }

    [Fact]
    public async Task WhileDraining_ARequestOnAConnectionOpenedBefore_IsRefusedInItsProtocol_AndOperatorEndpointsStillAnswer()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/ready", TestContext.Current.CancellationToken)).StatusCode);

        gateway.Services.GetRequiredService<GatewayDrain>().BeginDraining();

        var (chatStatus, chatBody, chatResponse) = await client.PostJsonAsync("/v1/chat/completions", ChatOnOpenAI);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, chatStatus);
        HttpHelpers.AssertOpenAIError(chatBody);
        Assert.True(chatResponse.Headers.ConnectionClose, "the refused connection is closed, so the client reconnects elsewhere");
        Assert.Equal(TimeSpan.FromSeconds(1), chatResponse.Headers.RetryAfter?.Delta);

        var (geminiStatus, geminiBody, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", GeminiRequest);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, geminiStatus);
        HttpHelpers.AssertGoogleError(geminiBody, 503, "UNAVAILABLE");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/healthz/ready", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Empty(gateway.Upstream.Received);
    }

    private static Task<GatewayProcess> StartProcessAsync(GatewayFixture fixture, TimeSpan drainTimeout) =>
        GatewayProcess.StartAsync(
            fixture.ConfigPath,
            new Dictionary<string, string> { ["TEST_UPSTREAM_KEY"] = GatewayFixture.UpstreamSecret },
            $"--MixProxy:Lifecycle:DrainTimeout={drainTimeout:c}");

    /// <summary>The status of a request on a new connection, or null when the connection is refused.</summary>
    private static async Task<HttpStatusCode?> StatusOrRefusedAsync(GatewayProcess gateway, HttpMethod method, string path, string? json)
    {
        using var client = new HttpClient { BaseAddress = gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFixture.ClientKey);
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json") };
        try
        {
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            return response.StatusCode;
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException or IOException)
        {
            return null;
        }
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < within)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return await condition();
    }

    private static List<string> SseData(string sse) =>
        sse.Replace("\r\n", "\n", StringComparison.Ordinal)
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.StartsWith("data: ", StringComparison.Ordinal) ? e["data: ".Length..] : e)
            .ToList();

    /// <summary>A streamed response whose first bytes have arrived: it is in flight in the gateway.</summary>
    private sealed class OpenStream
    {
        private readonly HttpResponseMessage _response;
        private readonly Stream _body;
        private readonly MemoryStream _received;

        private OpenStream(HttpResponseMessage response, Stream body, MemoryStream received)
        {
            _response = response;
            _body = body;
            _received = received;
        }

        public static async Task<OpenStream> StartAsync(HttpClient client, string path, string json)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
            var received = new MemoryStream();
            var buffer = new byte[4096];
            var read = await body.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
            Assert.True(read > 0, "the stream ended before its first event");
            received.Write(buffer, 0, read);
            return new OpenStream(response, body, received);
        }

        /// <summary>Reads the rest; throws when the connection is cut rather than the response ended.</summary>
        public async Task<string> ReadToEndAsync()
        {
            using (_response)
            await using (_body)
            {
                await _body.CopyToAsync(_received, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
                return Encoding.UTF8.GetString(_received.ToArray());
            }
        }
    }
}
