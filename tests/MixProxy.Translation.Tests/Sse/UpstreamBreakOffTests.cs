using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.Sse;

/// <summary>
/// An upstream that breaks off mid-stream, after the client got part of the answer, through each exchange that streams
/// event by event: the client gets what was translated so far once, then its own protocol's error event saying the
/// upstream stopped, and a stream that ends (a Gemini client without <c>alt=sse</c> still gets a valid JSON array).
/// </summary>
public sealed class UpstreamBreakOffTests
{
    private const string UpstreamStopped = "The upstream stopped mid-answer; the stream was ended.";

    private const string GeminiEvents =
        "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]},\"index\":0}],\"responseId\":\"r1\"}\r\n\r\n" +
        "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"lo\"}]},\"index\":0}],\"responseId\":\"r1\"}\r\n\r\n";

    private const string OpenAIChunks =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n" +
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n";

    [Fact]
    public async Task TranslateStream_OpenAIClientOnAGeminiUpstreamThatBreaksOff_GetsBothChunksThenAServerErrorEvent()
    {
        var (body, outcome) = await BreakOffAsync("openai-chat-to-gemini", sse: true, GeminiEvents);

        var events = GoldenCase.SseData(body);
        Assert.Equal(["Hel", "lo"], events[..^1].Select(e => JsonNode.Parse(e)!["choices"]![0]!["delta"]!["content"]!.GetValue<string>()));
        var error = JsonNode.Parse(events[^1])!["error"]!;
        Assert.Equal(UpstreamStopped, error["message"]!.GetValue<string>());
        Assert.Equal("server_error", error["type"]!.GetValue<string>());
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        AssertUpstreamFault(outcome);
    }

    [Fact]
    public async Task TranslateStream_GeminiSseClientOnAnOpenAIUpstreamThatBreaksOff_GetsBothEventsThenAnUnavailableError()
    {
        var (body, outcome) = await BreakOffAsync("gemini-to-openai-chat", sse: true, OpenAIChunks);

        var events = GoldenCase.SseData(body).Select(e => JsonNode.Parse(e)!).ToList();
        Assert.Equal(["Hel", "lo"], events[..^1].Select(e => e["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>()));
        AssertUnavailable(events[^1]);
        AssertUpstreamFault(outcome);
    }

    [Fact]
    public async Task TranslateStream_GeminiJsonArrayClientOnAnOpenAIUpstreamThatBreaksOffAfterOneChunk_GetsAValidArrayEndingInTheError()
    {
        // After one element the array is open and the error must follow it with a comma, not open a second array.
        var (body, outcome) = await BreakOffAsync("gemini-to-openai-chat", sse: false, OpenAIChunks[..(OpenAIChunks.IndexOf("\n\n", StringComparison.Ordinal) + 2)]);

        var array = JsonNode.Parse(body)!.AsArray();
        Assert.Equal(2, array.Count);
        Assert.Equal("Hel", array[0]!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>());
        AssertUnavailable(array[^1]!);
        AssertUpstreamFault(outcome);
    }

    [Fact]
    public async Task TranslateStream_OpenAIPassthroughUpstreamBreaksOff_PassesBothChunksAsTheyCameThenAServerErrorEvent()
    {
        var (body, outcome) = await BreakOffAsync("openai-chat-passthrough", sse: true, OpenAIChunks);

        var events = GoldenCase.SseData(body);
        Assert.Equal(GoldenCase.SseData(OpenAIChunks), events[..^1]);
        var error = JsonNode.Parse(events[^1])!["error"]!;
        Assert.Equal(UpstreamStopped, error["message"]!.GetValue<string>());
        Assert.Equal("server_error", error["type"]!.GetValue<string>());
        AssertUpstreamFault(outcome);
    }

    /// <summary>Streams the pair's minimal request's reply from an upstream that sends <paramref name="upstreamSse"/> and then breaks off.</summary>
    private static async Task<(string Body, ExchangeOutcome Outcome)> BreakOffAsync(string pair, bool sse, string upstreamSse)
    {
        var call = ExchangeHarness.Begin(pair, ExchangeHarness.MinimalRequest(pair, stream: true, sse: sse), GoldenTests.DefaultProfile(pair));
        using var upstream = new BreakingUpstream(upstreamSse, new IOException("The response ended prematurely."));
        var reply = call.TranslateStream(upstream, "text/event-stream", TestContext.Current.CancellationToken);
        await using var translated = reply.Body;
        using var reader = new StreamReader(translated, Encoding.UTF8);
        return (await reader.ReadToEndAsync(TestContext.Current.CancellationToken), call.Outcome);
    }

    private static void AssertUnavailable(JsonNode geminiEvent)
    {
        var error = geminiEvent["error"]!;
        Assert.Equal(502, error["code"]!.GetValue<int>());
        Assert.Equal("UNAVAILABLE", error["status"]!.GetValue<string>());
        Assert.Equal(UpstreamStopped, error["message"]!.GetValue<string>());
    }

    private static void AssertUpstreamFault(ExchangeOutcome outcome)
    {
        Assert.IsType<IOException>(outcome.UpstreamFault);
        Assert.Null(outcome.TranslationFault);
        Assert.True(outcome.Faulted);
    }
}
