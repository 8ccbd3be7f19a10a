using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.Sse;

/// <summary>
/// An upstream stream that ends cleanly but without what ends a whole answer (Gemini: no candidate's
/// <c>finishReason</c>; Chat Completions: no <c>finish_reason</c>) was cut, not finished: once the client has part of
/// the answer it gets its protocol's mid-stream error event, never a made-up stop; before it has a byte the read
/// throws, so the gateway answers with an error status (or tries again). Either way the outcome is incomplete.
/// </summary>
public sealed class TruncatedStreamTests
{
    private const string UpstreamStopped = "The upstream stopped mid-answer; the stream was ended.";

    private const string GeminiTextWithoutFinish =
        "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]},\"index\":0}],\"responseId\":\"r1\"}\r\n\r\n" +
        "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"lo\"}]},\"index\":0}],\"responseId\":\"r1\"}\r\n\r\n";

    private const string ChatTextWithoutFinish =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n" +
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n";

    private const string ChatRoleOnly =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";

    [Fact]
    public async Task TranslateStream_OpenAIClient_GeminiStreamEndsWithoutFinishReason_GetsTheTextThenAServerErrorEventAndNoDone()
    {
        var (body, outcome) = await TranslateAsync("openai-chat-to-gemini", sse: true, GeminiTextWithoutFinish);

        var events = GoldenCase.SseData(body);
        Assert.Equal(["Hel", "lo"], events[..^1].Select(e => JsonNode.Parse(e)!["choices"]![0]!["delta"]!["content"]!.GetValue<string>()));
        Assert.DoesNotContain(events, e => e.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal));
        AssertOpenAIError(events[^1]);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        AssertCut(outcome);
    }

    [Fact]
    public async Task TranslateStream_OpenAIClient_OneOfTwoCandidatesNeverFinishes_IsCutToo()
    {
        const string upstream =
            "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"A\"}]},\"index\":0,\"finishReason\":\"STOP\"},{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"B\"}]},\"index\":1}]}\n\n";

        var (body, outcome) = await TranslateAsync("openai-chat-to-gemini", sse: true, upstream);

        AssertOpenAIError(GoldenCase.SseData(body)[^1]);
        AssertCut(outcome);
    }

    [Fact]
    public async Task TranslateStream_OpenAIClient_BlockedPromptWithoutCandidates_IsAWholeAnswer()
    {
        // A blocked prompt has no candidate to finish: the block reason is how Gemini ends that stream.
        var (body, outcome) = await TranslateAsync("openai-chat-to-gemini", sse: true, "data: {\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}\n\n");

        Assert.Contains("\"finish_reason\":\"content_filter\"", body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        Assert.False(outcome.Faulted);
        Assert.Null(outcome.UpstreamFault);
    }

    [Fact]
    public async Task TranslateStream_OpenAIClient_GeminiStreamWithNoEventAtAll_TheReadThrowsSoTheGatewayAnswersWithAStatus()
    {
        await AssertThrowsBeforeAnyByteAsync("openai-chat-to-gemini", sse: true, string.Empty);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TranslateStream_GeminiClient_ChatStreamEndsWithoutFinishReasonOrDone_GetsTheTextThenAnUnavailableError(bool sse)
    {
        var (body, outcome) = await TranslateAsync("gemini-to-openai-chat", sse, ChatTextWithoutFinish);

        var events = sse ? GoldenCase.SseData(body).Select(e => JsonNode.Parse(e)!).ToList() : JsonNode.Parse(body)!.AsArray().Select(e => e!).ToList();
        Assert.Equal(["Hel", "lo"], events[..^1].Select(e => e["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>()));
        Assert.DoesNotContain(events, e => e["candidates"]?[0]?["finishReason"] is not null);
        AssertGoogleUnavailable(events[^1]);
        AssertCut(outcome);
    }

    [Fact]
    public async Task TranslateStream_GeminiClient_DoneWithoutAFinishReason_IsCutToo()
    {
        // [DONE] says the upstream stopped sending, not that the answer was whole: the gateway would have to invent STOP.
        var (body, outcome) = await TranslateAsync("gemini-to-openai-chat", sse: true, ChatTextWithoutFinish + "data: [DONE]\n\n");

        AssertGoogleUnavailable(JsonNode.Parse(GoldenCase.SseData(body)[^1])!);
        AssertCut(outcome);
    }

    [Fact]
    public async Task TranslateStream_GeminiClient_FinishReasonButNoDone_IsAWholeAnswerNotCached()
    {
        // The answer's own end arrived; only the terminator after the usage is missing. The client gets the answer, and
        // the outcome stays incomplete, so the cache does not keep a reply whose usage may be missing.
        const string upstream = ChatTextWithoutFinish + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";

        var (body, outcome) = await TranslateAsync("gemini-to-openai-chat", sse: true, upstream);

        Assert.Equal("STOP", JsonNode.Parse(GoldenCase.SseData(body)[^1])!["candidates"]![0]!["finishReason"]!.GetValue<string>());
        Assert.Null(outcome.UpstreamFault);
        Assert.True(outcome.Faulted);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TranslateStream_GeminiClient_OnlyARoleChunkThenTheEnd_TheReadThrowsInsteadOfAnEmptyAnswer(bool sse)
    {
        // The role chunk gives a Gemini client nothing: without the throw it would get 200 and an empty body.
        await AssertThrowsBeforeAnyByteAsync("gemini-to-openai-chat", sse, ChatRoleOnly);
    }

    [Theory]
    [InlineData("openai-responses-to-gemini", GeminiTextWithoutFinish)]
    [InlineData("openai-responses-to-openai-chat", ChatTextWithoutFinish)]
    public async Task TranslateStream_ResponsesClient_EitherUpstreamEndsWithoutFinish_EndsWithResponseFailed(string pair, string upstream)
    {
        var (body, outcome) = await TranslateAsync(pair, sse: true, upstream);

        var last = body.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("event: response.failed\n", last, StringComparison.Ordinal);
        var response = JsonNode.Parse(last[(last.IndexOf("data: ", StringComparison.Ordinal) + "data: ".Length)..])!["response"]!;
        Assert.Equal("failed", response["status"]!.GetValue<string>());
        Assert.Equal("server_error", response["error"]!["code"]!.GetValue<string>());
        Assert.Equal(UpstreamStopped, response["error"]!["message"]!.GetValue<string>());
        Assert.DoesNotContain("response.completed", body, StringComparison.Ordinal);
        AssertCut(outcome);
    }

    [Theory]
    [InlineData("openai-responses-to-gemini", "")]
    [InlineData("openai-responses-to-openai-chat", "")]
    public async Task TranslateStream_ResponsesClient_UpstreamSendsNothing_TheReadThrows(string pair, string upstream)
    {
        await AssertThrowsBeforeAnyByteAsync(pair, sse: true, upstream);
    }

    [Fact]
    public async Task TranslateStream_OpenAIPassthrough_NeitherDoneNorFinishReason_PassesTheChunksThenAServerErrorEvent()
    {
        var (body, outcome) = await TranslateAsync("openai-chat-passthrough", sse: true, ChatTextWithoutFinish);

        var events = GoldenCase.SseData(body);
        Assert.Equal(GoldenCase.SseData(ChatTextWithoutFinish), events[..^1]);
        AssertOpenAIError(events[^1]);
        AssertCut(outcome);
    }

    [Fact]
    public async Task TranslateStream_OpenAIPassthrough_FinishReasonWithoutDone_PassesAsItCame()
    {
        // The upstream's own finish is relayed as it wrote it: the gateway invents nothing, so it adds nothing.
        const string upstream = ChatTextWithoutFinish + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";

        var (body, outcome) = await TranslateAsync("openai-chat-passthrough", sse: true, upstream);

        Assert.Equal(GoldenCase.SseData(upstream), GoldenCase.SseData(body));
        Assert.Null(outcome.UpstreamFault);
    }

    [Fact]
    public async Task TranslateStream_GeminiSsePassthrough_NoFinishReason_PassesTheEventsAsTheyCameThenAnUnavailableError()
    {
        // A Gemini SDK reads a stream that just stops as a finished answer: the gateway says it was cut.
        var (body, outcome) = await TranslateAsync("gemini-passthrough", sse: true, GeminiTextWithoutFinish);

        Assert.StartsWith(GeminiTextWithoutFinish, body, StringComparison.Ordinal);
        var events = GoldenCase.SseData(body).Where(e => e.Trim().Length > 0).ToList();
        Assert.Equal(3, events.Count);
        AssertGoogleUnavailable(JsonNode.Parse(events[^1])!);
        AssertCut(outcome);
    }

    [Fact]
    public async Task TranslateStream_GeminiArrayPassthrough_CutInsideTheArray_EndsItWithTheErrorAsItsLastElement()
    {
        const string upstream = "[{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]},\"index\":0}]}\r\n";

        var (body, outcome) = await TranslateAsync("gemini-passthrough", sse: false, upstream);

        var array = JsonNode.Parse(body)!.AsArray();
        Assert.Equal(2, array.Count);
        AssertGoogleUnavailable(array[^1]!);
        AssertCut(outcome);
    }

    [Fact]
    public async Task TranslateStream_GeminiArrayPassthrough_ClosedArrayWithoutFinishReason_StaysValidJsonButIsIncomplete()
    {
        // Nothing can follow a closed array: the client's JSON stays whole, and the answer is still not cached.
        const string upstream = "[{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]},\"index\":0}]}]";

        var (body, outcome) = await TranslateAsync("gemini-passthrough", sse: false, upstream);

        Assert.Equal(upstream, body);
        Assert.True(outcome.Faulted);
    }

    [Fact]
    public async Task TranslateStream_GeminiPassthrough_FinishedStream_GetsNothingAdded()
    {
        const string upstream = "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\",\"index\":0}]}\r\n\r\n";

        var (body, outcome) = await TranslateAsync("gemini-passthrough", sse: true, upstream);

        Assert.Equal(upstream, body);
        Assert.False(outcome.Faulted);
        Assert.Null(outcome.UpstreamFault);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TranslateStream_GeminiPassthrough_EmptyBody_TheReadThrowsInsteadOf200WithNothing(bool sse)
    {
        await AssertThrowsBeforeAnyByteAsync("gemini-passthrough", sse, string.Empty);
    }

    private static async Task<(string Body, ExchangeOutcome Outcome)> TranslateAsync(string pair, bool sse, string upstreamSse)
    {
        var call = ExchangeHarness.Begin(pair, ExchangeHarness.MinimalRequest(pair, stream: true, sse: sse), GoldenTests.DefaultProfile(pair));
        var body = await ExchangeHarness.TranslateStreamAsync(call, upstreamSse, TestContext.Current.CancellationToken);
        return (body, call.Outcome);
    }

    private static async Task AssertThrowsBeforeAnyByteAsync(string pair, bool sse, string upstreamSse)
    {
        var call = ExchangeHarness.Begin(pair, ExchangeHarness.MinimalRequest(pair, stream: true, sse: sse), GoldenTests.DefaultProfile(pair));
        using var upstream = new MemoryStream(Encoding.UTF8.GetBytes(upstreamSse));
        await using var translated = call.TranslateStream(upstream, "text/event-stream", TestContext.Current.CancellationToken).Body;

        var thrown = await Assert.ThrowsAsync<TruncatedStreamException>(() => translated.ReadAsync(new byte[4096], TestContext.Current.CancellationToken).AsTask());
        Assert.IsAssignableFrom<IOException>(thrown);
        Assert.True(call.Outcome.Faulted);
        Assert.Null(call.Outcome.UpstreamFault); // nothing reached the client: a forwarding error, not a break mid-answer
    }

    private static void AssertOpenAIError(string openAIEvent)
    {
        var error = JsonNode.Parse(openAIEvent)!["error"]!;
        Assert.Equal(UpstreamStopped, error["message"]!.GetValue<string>());
        Assert.Equal("server_error", error["type"]!.GetValue<string>());
    }

    private static void AssertGoogleUnavailable(JsonNode geminiEvent)
    {
        var error = geminiEvent["error"]!;
        Assert.Equal(502, error["code"]!.GetValue<int>());
        Assert.Equal("UNAVAILABLE", error["status"]!.GetValue<string>());
        Assert.Equal(UpstreamStopped, error["message"]!.GetValue<string>());
    }

    private static void AssertCut(ExchangeOutcome outcome)
    {
        Assert.IsType<TruncatedStreamException>(outcome.UpstreamFault);
        Assert.Null(outcome.TranslationFault);
        Assert.True(outcome.Faulted);
    }
}
