using System.Text.Json.Nodes;
using MixProxy.Translation.GeminiToOpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.GeminiToOpenAIChat;

/// <summary>
/// A Gemini client's fields of the wrong JSON type are refused by validation, naming the field as the client spelled
/// it (camelCase or snake_case), and a Chat Completions reply of an unusable shape is the upstream's fault.
/// </summary>
public sealed class GeminiToChatValidationTests
{
    private const string Pair = "gemini-to-openai-chat";

    private static TranslationException Refusal(string body) =>
        Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, body), GoldenTests.DefaultProfile(Pair)));

    private static string Request(string fields) => $$"""{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],{{fields}}}""";

    [Fact]
    public void Begin_MaxOutputTokensIsNotANumber_RefusesWith400NamingIt()
    {
        var error = Refusal(Request("""
            "generationConfig":{"maxOutputTokens":"ten"}
            """));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("generationConfig.maxOutputTokens", error.Param);
        Assert.Equal("'maxOutputTokens' must be an integer.", error.Message);
    }

    [Fact]
    public void Begin_NumbersWrittenAsStrings_AreTakenAsGoogleTakesThem()
    {
        // proto3 JSON accepts "100" for an integer field and "0.5" for a float one; OpenAI wants numbers.
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, Request("""
            "generationConfig":{"maxOutputTokens":"100","temperature":"0.5"}
            """)), GoldenTests.DefaultProfile(Pair));

        var upstream = JsonNode.Parse(call.Request.Body!.Value.Span)!;
        Assert.Equal(100, upstream["max_completion_tokens"]!.GetValue<int>());
        Assert.Equal(0.5, upstream["temperature"]!.GetValue<double>());
    }

    [Fact]
    public void Begin_SnakeCaseMaxOutputTokensIsFractional_NamesItAsTheClientSpelledIt()
    {
        var error = Refusal(Request("""
            "generation_config":{"max_output_tokens":1.5}
            """));

        Assert.Equal("generation_config.max_output_tokens", error.Param);
    }

    [Fact]
    public void Begin_ContentRoleIsANumber_IsRefused()
    {
        var error = Refusal("""{"contents":[{"role":5,"parts":[{"text":"Hi"}]}]}""");

        Assert.Equal("contents[0].role", error.Param);
        Assert.Equal("'role' must be a string.", error.Message);
    }

    [Fact]
    public void Begin_PartIsNotAnObject_IsRefusedNamingThePart()
    {
        var error = Refusal("""{"contents":[{"role":"user","parts":[{"text":"Hi"},"there"]}]}""");

        Assert.Equal("contents[0].parts[1]", error.Param);
    }

    [Fact]
    public void Begin_FunctionCallIdIsANumber_IsRefusedNamingItAsSpelled()
    {
        var error = Refusal("""{"contents":[{"role":"user","parts":[{"text":"Hi"}]},{"role":"model","parts":[{"function_call":{"name":"f","id":5}}]}]}""");

        Assert.Equal("contents[1].parts[0].function_call.id", error.Param);
    }

    [Fact]
    public void TranslateResponse_ToolCallWithoutAName_IsABadUpstreamResponse()
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.MinimalRequest(Pair, stream: false), GoldenTests.DefaultProfile(Pair));

        Assert.Throws<UpstreamResponseException>(() => ExchangeHarness.TranslateResponse(call, """
            {"choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]},"finish_reason":"tool_calls"}]}
            """));
    }

    [Fact]
    public async Task TranslateStream_DeltaContentIsANumber_EndsWithAnUnexpectedShapeEventAndNoTranslationFault()
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.MinimalRequest(Pair, stream: true), GoldenTests.DefaultProfile(Pair));

        var reply = await ExchangeHarness.TranslateStreamAsync(call, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":5}}]}\n\n", TestContext.Current.CancellationToken);

        var error = JsonNode.Parse(GoldenCase.SseData(reply)[^1])!["error"]!;
        Assert.Equal(502, error["code"]!.GetValue<int>());
        Assert.True(call.Outcome.Faulted);
        Assert.Null(call.Outcome.TranslationFault);
    }

    [Fact]
    public async Task TranslateEvent_TranslatorFailsHalfWayThroughAnEvent_ClientGetsWholeEventsThenTheErrorEvent_AndTheFaultIsRecorded()
    {
        var outcome = new ExchangeOutcome();
        var buggy = new BuggyTranslator(new ChatToGeminiStreamTranslator(new ResponseContext { ClientModel = ExchangeHarness.GeminiClientModel, Created = ExchangeHarness.Created }, sse: true, outcome), failAtEvent: 2);
        using var upstream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n" + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"));
        await using var translated = new MixProxy.Translation.Sse.TranslatingSseStream(upstream, buggy, outcome, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(translated);

        var text = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);

        Assert.DoesNotContain(BuggyTranslator.HalfWritten, text, StringComparison.Ordinal);
        var events = GoldenCase.SseData(text);
        var error = JsonNode.Parse(events[^1])!["error"]!;
        Assert.Equal(500, error["code"]!.GetValue<int>());
        Assert.True(events.Count >= 2, "the first, whole event reaches the client: " + text);
        Assert.True(outcome.Faulted);
        Assert.Same(buggy.Failure, outcome.TranslationFault);
    }

    [Fact]
    public async Task TranslateEvent_TranslatorFailsOnTheFirstElementOfAJsonArrayStream_TheClientStillGetsAValidArray()
    {
        // Without alt=sse a Gemini stream is one JSON array: the element the failed call began is taken back, and the
        // error must then open the array itself.
        var outcome = new ExchangeOutcome();
        var buggy = new BuggyTranslator(new ChatToGeminiStreamTranslator(new ResponseContext { ClientModel = ExchangeHarness.GeminiClientModel, Created = ExchangeHarness.Created }, sse: false, outcome), failAtEvent: 1);
        using var upstream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"));
        await using var translated = new MixProxy.Translation.Sse.TranslatingSseStream(upstream, buggy, outcome, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(translated);

        var array = JsonNode.Parse(await reader.ReadToEndAsync(TestContext.Current.CancellationToken))!.AsArray();

        Assert.Equal(500, array[^1]!["error"]!["code"]!.GetValue<int>());
        Assert.Same(buggy.Failure, outcome.TranslationFault);
    }
}
