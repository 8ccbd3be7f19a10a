using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.OpenAIChatToGemini;

/// <summary>
/// An OpenAI client's fields of the wrong JSON type are refused by validation, naming the field as the client wrote it
/// (a 400), and a Gemini reply of an unusable shape is the upstream's fault (a 502, or an error event mid-stream). No
/// catch-all turns a translator bug into either: that is what <see cref="HostileInputTests"/> holds every golden case to.
/// </summary>
public sealed class ChatToGeminiValidationTests
{
    private const string Pair = "openai-chat-to-gemini";

    private static TranslationException Refusal(string body) =>
        Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, body), GoldenTests.DefaultProfile(Pair)));

    private static string Request(string fields) =>
        $$"""{"model":"{{ExchangeHarness.GeminiClientModel}}","messages":[{"role":"user","content":"Hi"}],{{fields}}}""";

    [Fact]
    public void Begin_TemperatureIsAString_RefusesWith400NamingTemperature()
    {
        var error = Refusal(Request("\"temperature\":\"0.2\""));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("temperature", error.Param);
    }

    [Theory]
    [InlineData("user", """{"text":"What is the capital of France?"}""")]
    [InlineData("user", "5")]
    [InlineData("user", "true")]
    [InlineData("system", """{"text":"Be brief."}""")]
    [InlineData("assistant", "12")]
    public void Begin_ContentOfAnotherJsonType_RefusesNamingIt_InsteadOfAskingABlankQuestion(string role, string content)
    {
        var error = Refusal($$"""{"model":"m","messages":[{"role":"user","content":"Hi"},{"role":"{{role}}","content":{{content}}}]}""");

        Assert.Equal(400, error.StatusCode);
        Assert.Equal("messages[1].content", error.Param);
    }

    [Theory]
    [InlineData("\"x\"", "stream_options")]
    [InlineData("[true]", "stream_options")]
    [InlineData("{\"include_usage\":\"yes\"}", "stream_options.include_usage")]
    public void Parse_StreamOptionsOfAnotherJsonType_RefusesNamingIt(string options, string param)
    {
        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Parse(Pair, Request("\"stream\":true,\"stream_options\":" + options)));

        Assert.Equal(400, error.StatusCode);
        Assert.Equal(param, error.Param);
    }

    [Fact]
    public void Begin_ToolCallArgumentsAreANumber_RefusesNamingTheArguments()
    {
        var error = Refusal("""{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":5}}]}]}""");

        Assert.Equal("messages[1].tool_calls[0].function.arguments", error.Param);
        Assert.Contains("must be a string holding a JSON object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Begin_FileDataIsANumber_RefusesNamingIt()
    {
        var error = Refusal("""{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":5}}]}]}""");

        Assert.Equal("messages[0].content[0].file.file_data", error.Param);
        Assert.Equal("'file_data' must be a string.", error.Message);
    }

    [Fact]
    public void Begin_ToolTypeIsANumber_RefusesNamingIt()
    {
        var error = Refusal(Request("""
            "tools":[{"type":5}]
            """));

        Assert.Equal("tools[0].type", error.Param);
    }

    [Fact]
    public void Begin_ThinkingBudgetIsFractional_RefusesNamingIt()
    {
        var error = Refusal(Request("""
            "extra_body":{"google":{"thinking_config":{"thinking_budget":1.5}}}
            """));

        Assert.Equal("extra_body.google.thinking_config.thinking_budget", error.Param);
        Assert.Contains("must be an integer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TranslateResponse_CandidateIsNotAnObject_IsABadUpstreamResponse()
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.MinimalRequest(Pair, stream: false), GoldenTests.DefaultProfile(Pair));

        var error = Assert.Throws<UpstreamResponseException>(() => ExchangeHarness.TranslateResponse(call, """{"candidates":[5]}"""));

        Assert.Contains("candidate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TranslateResponse_OddOptionalExtras_AreReadAsAbsent()
    {
        // Ids, signatures, usage and grounding offsets are extras: one of the wrong type must not cost the client its answer.
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.MinimalRequest(Pair, stream: false), GoldenTests.DefaultProfile(Pair));

        var reply = JsonNode.Parse(ExchangeHarness.TranslateResponse(call, """
            {"responseId":5,"candidates":[{"content":{"parts":[{"text":"Hi"},{"functionCall":{"id":7,"name":"f"},"thoughtSignature":{}}]},"finishReason":"STOP"}],
             "usageMetadata":{"promptTokenCount":1.5,"candidatesTokenCount":2,"totalTokenCount":3}}
            """))!;

        Assert.Equal("Hi", reply["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("f", reply["choices"]![0]!["message"]!["tool_calls"]![0]!["function"]!["name"]!.GetValue<string>());
        Assert.Equal(0, reply["usage"]!["prompt_tokens"]!.GetValue<long>());
    }

    [Fact]
    public void TranslateResponse_OutputFails_TheFailureSurfacesAsIsNotAsABadUpstreamResponse()
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.MinimalRequest(Pair, stream: false), GoldenTests.DefaultProfile(Pair));
        var output = new FailingBufferWriter();

        var thrown = Assert.ThrowsAny<Exception>(() => call.TranslateResponse("""{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}"""u8, "application/json", output));

        Assert.Same(output.Failure, thrown);
    }

    [Fact]
    public async Task TranslateStream_PartIsNotAnObject_EndsWithAnUnexpectedShapeEventAndNoTranslationFault()
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.MinimalRequest(Pair, stream: true), GoldenTests.DefaultProfile(Pair));

        var reply = await ExchangeHarness.TranslateStreamAsync(call, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}]}}]}\n\ndata: {\"candidates\":[{\"content\":{\"parts\":[5]}}]}\n\n", TestContext.Current.CancellationToken);

        var events = GoldenCase.SseData(reply);
        Assert.Equal("Hel", JsonNode.Parse(events[0])!["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        Assert.Equal("bad_upstream_response", JsonNode.Parse(events[^1])!["error"]!["code"]!.GetValue<string>());
        Assert.True(call.Outcome.Faulted);
        Assert.Null(call.Outcome.TranslationFault);
    }

    [Fact]
    public async Task TranslateEvent_TranslatorFailsHalfWayThroughAnEvent_ClientGetsWholeEventsThenTheErrorEvent_AndTheFaultIsRecorded()
    {
        var outcome = new ExchangeOutcome();
        var buggy = new BuggyTranslator(new MixProxy.Translation.OpenAIChatToGemini.GeminiToChatStreamTranslator(new ResponseContext { ClientModel = ExchangeHarness.GeminiClientModel, Created = ExchangeHarness.Created }, outcome), failAtEvent: 2);
        using var upstream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\n\n" + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\n\n"));
        await using var translated = new MixProxy.Translation.Sse.TranslatingSseStream(upstream, buggy, outcome, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(translated);

        var text = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);

        Assert.DoesNotContain(BuggyTranslator.HalfWritten, text, StringComparison.Ordinal);
        var events = GoldenCase.SseData(text);
        var error = JsonNode.Parse(events[^1])!["error"]!;
        Assert.Equal("server_error", error["type"]!.GetValue<string>());
        Assert.True(events.Count >= 2, "the first, whole event reaches the client: " + text);
        Assert.True(outcome.Faulted);
        Assert.Same(buggy.Failure, outcome.TranslationFault);
    }
}
