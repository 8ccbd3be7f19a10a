using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.OpenAIResponsesToOpenAIChat;

/// <summary>
/// A Responses client on a Gemini 3 upstream, over several turns: what a stored response's record holds, how a later
/// request continues it, where the thought signatures go, and which answers may be cached.
/// </summary>
public sealed class ResponsesExchangeTests
{
    private const string Pair = "openai-responses-to-gemini";
    private const string Signature = "c2lnbmF0dXJlLW9uZQ==";

    private static readonly UpstreamModelProfile Gemini3 = new() { UpstreamModel = "gemini-3.1-pro-preview", Thinking = ThinkingStyle.Level, ThinkingLevels = ["low", "high"] };

    private const string WeatherTool = """{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}""";

    // Gemini 3 calls a function and signs the call, as it does for the first call of each step.
    private const string SignedCall = """
        {"responseId":"r1","candidates":[{"content":{"role":"model","parts":[
          {"functionCall":{"id":"call_paris","name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2lnbmF0dXJlLW9uZQ=="}]},"finishReason":"STOP"}],
         "usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"totalTokenCount":25}}
        """;

    private const string SignedCallStream = """
        data: {"responseId":"s1","candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"call_paris","name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2lnbmF0dXJlLW9uZQ=="}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"totalTokenCount":25}}


        """;

    private static ExchangeCall Begin(string body, StoredResult? prior = null, ThoughtSignatureBag? known = null) =>
        ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, body), ExchangeHarness.Settings(Gemini3) with { PriorResult = prior, KnownSignatures = known });

    private static JsonNode UpstreamBody(ExchangeCall call) => JsonNode.Parse(call.Request.Body!.Value.Span)!;

    private static JsonNode Record(ExchangeCall call) => JsonNode.Parse(call.Outcome.ResultToStore!.Record.Span)!;

    [Fact]
    public void StoredResponse_RecordHoldsTheAnswerAsTheClientGotIt_ItsInputWithIds_AndTheSignedConversation()
    {
        var call = Begin($$"""{"model":"gemini-3.1-pro-preview","input":"Weather in Paris?","tools":[{{WeatherTool}}]}""");

        var reply = JsonNode.Parse(ExchangeHarness.TranslateResponse(call, SignedCall))!;

        var stored = call.Outcome.ResultToStore!;
        Assert.Equal(reply["id"]!.GetValue<string>(), stored.Id);
        var record = Record(call);
        Assert.Equal(reply.ToJsonString(), record["response"]!.ToJsonString());

        // The client did not ask for encrypted reasoning: it sees the call alone, and the record keeps the signature.
        Assert.Equal(["function_call"], reply["output"]!.AsArray().Select(i => i!["type"]!.GetValue<string>()));
        var input = record["input"]!.AsArray();
        Assert.StartsWith("msg_", input[0]!["id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Weather in Paris?", input[0]!["content"]![0]!["text"]!.GetValue<string>());
        var context = record["context"]!.AsArray();
        Assert.Equal(["message", "reasoning", "function_call"], context.Select(i => i!["type"]!.GetValue<string>()));
        Assert.Equal(ResponsesReasoning.Seal(Signature), context[1]!["encrypted_content"]!.GetValue<string>());
        Assert.Equal("call_paris", context[2]!["call_id"]!.GetValue<string>());
    }

    [Fact]
    public void ContinuingAStoredResponse_SendsItsConversationFirst_WithTheSignatureBackOnTheCall()
    {
        var first = Begin($$"""{"model":"gemini-3.1-pro-preview","input":"Weather in Paris?","tools":[{{WeatherTool}}]}""");
        ExchangeHarness.TranslateResponse(first, SignedCall);
        var stored = first.Outcome.ResultToStore!;

        var second = Begin(
            $$"""{"model":"gemini-3.1-pro-preview","previous_response_id":"{{stored.Id}}","input":[{"type":"function_call_output","call_id":"call_paris","output":"21°C"}],"tools":[{{WeatherTool}}]}""",
            prior: stored);

        var contents = UpstreamBody(second)["contents"]!.AsArray();
        Assert.Equal(["user", "model", "user"], contents.Select(c => c!["role"]!.GetValue<string>()));
        Assert.Equal("Weather in Paris?", contents[0]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(Signature, contents[1]!["parts"]![0]!["thoughtSignature"]!.GetValue<string>());
        Assert.Equal("get_weather", contents[2]!["parts"]![0]!["functionResponse"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void ContinuingAResponseTheKeyHasNot_Is400NamingPreviousResponseId()
    {
        var request = ExchangeHarness.Parse(Pair, """{"model":"gemini-3.1-pro-preview","previous_response_id":"resp_gone","input":"Hi"}""");

        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(Pair, request, ExchangeHarness.Settings(Gemini3)));

        Assert.Equal("previous_response_id", error.Param);
        Assert.Contains("resp_gone", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EncryptedReasoningAsked_TheSignatureComesInAReasoningItemRightBeforeItsCall_AndGoesBackFromIt()
    {
        var call = Begin($$"""{"model":"gemini-3.1-pro-preview","input":"Weather?","tools":[{{WeatherTool}}],"store":false,"include":["reasoning.encrypted_content"]}""");

        var output = JsonNode.Parse(ExchangeHarness.TranslateResponse(call, SignedCall))!["output"]!.AsArray();

        Assert.Null(call.Outcome.ResultToStore);
        Assert.Equal(["reasoning", "function_call"], output.Select(i => i!["type"]!.GetValue<string>()));
        Assert.Empty(output[0]!["summary"]!.AsArray());
        var history = new JsonArray(JsonNode.Parse("""{"role":"user","content":"Weather?"}"""), output[0]!.DeepClone(), output[1]!.DeepClone(), JsonNode.Parse("""{"type":"function_call_output","call_id":"call_paris","output":"21°C"}"""));
        var next = Begin($$"""{"model":"gemini-3.1-pro-preview","store":false,"tools":[{{WeatherTool}}],"input":{{history.ToJsonString()}}}""");
        Assert.Equal(Signature, UpstreamBody(next)["contents"]![1]!["parts"]![0]!["thoughtSignature"]!.GetValue<string>());
    }

    [Fact]
    public void OnlyTheCallComesBack_ItsIdIsAskedOfTheHostsMemory_AndTheRecalledSignatureGoesUp()
    {
        const string Body = """
            {"model":"gemini-3.1-pro-preview","store":false,"tools":[{"type":"function","name":"get_weather"}],"input":[
              {"role":"user","content":"Weather?"},
              {"type":"function_call","call_id":"call_paris","name":"get_weather","arguments":"{}"},
              {"type":"function_call_output","call_id":"call_paris","output":"21°C"}]}
            """;
        var exchange = ExchangeHarness.ExchangeFor(Pair);
        Assert.Equal(["call_paris"], exchange.SignaturesToRecall(ExchangeHarness.Parse(Pair, Body)));

        var known = new ThoughtSignatureBag();
        known.Add("call_paris", Signature);
        var call = Begin(Body, known: known);

        Assert.Equal(Signature, UpstreamBody(call)["contents"]![1]!["parts"]![0]!["thoughtSignature"]!.GetValue<string>());
    }

    [Fact]
    public void OnAChatCompletionsUpstream_NoSignatureIsRecalled()
    {
        const string Body = """{"model":"gpt-x","store":false,"input":[{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"ok"}]}""";

        Assert.Empty(ExchangeHarness.ExchangeFor("openai-responses-to-openai-chat").SignaturesToRecall(ExchangeHarness.Parse("openai-responses-to-openai-chat", Body)));
    }

    [Fact]
    public async Task StoredStream_IsRecordedWhenItCompletes_WithTheSameResponseTheClientsLastEventCarries()
    {
        var call = Begin($$"""{"model":"gemini-3.1-pro-preview","input":"Weather?","stream":true,"tools":[{{WeatherTool}}]}""");

        var sse = await ExchangeHarness.TranslateStreamAsync(call, SignedCallStream, TestContext.Current.CancellationToken);

        var last = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("event: response.completed", last, StringComparison.Ordinal);
        var completed = JsonNode.Parse(last[(last.IndexOf("data: ", StringComparison.Ordinal) + 6)..])!["response"]!;
        Assert.Equal(completed.ToJsonString(), Record(call)["response"]!.ToJsonString());
        Assert.Equal(["message", "reasoning", "function_call"], Record(call)["context"]!.AsArray().Select(i => i!["type"]!.GetValue<string>()));
    }

    [Fact]
    public async Task BridgedStream_CountsAsTranslatedOnlyTheBytesTheClientReads()
    {
        var call = Begin($$"""{"model":"gemini-3.1-pro-preview","input":"Weather?","stream":true,"store":false,"tools":[{{WeatherTool}}]}""");

        var sse = await ExchangeHarness.TranslateStreamAsync(call, SignedCallStream, TestContext.Current.CancellationToken);

        // The Chat chunks in between never leave the gateway.
        Assert.Equal(Encoding.UTF8.GetByteCount(sse), call.Outcome.TranslatedBytes);
    }

    [Fact]
    public async Task StreamThatFails_StoresNothing()
    {
        var call = Begin("""{"model":"gemini-3.1-pro-preview","input":"Hi","stream":true}""");

        var sse = await ExchangeHarness.TranslateStreamAsync(call, "data: {\"error\":{\"code\":503,\"message\":\"overloaded\",\"status\":\"UNAVAILABLE\"}}\n\n", TestContext.Current.CancellationToken);

        Assert.Contains("event: response.failed", sse, StringComparison.Ordinal);
        Assert.Null(call.Outcome.ResultToStore);
        Assert.True(call.Outcome.Faulted);
    }

    [Fact]
    public void RefusedByTheChatSide_TheErrorNamesTheResponsesField_AndTheMessageTheChatOne()
    {
        var request = ExchangeHarness.Parse(Pair, """{"model":"gemini-3.1-pro-preview","input":"Hi","tools":[{"type":"function","name":"9lives"}]}""");

        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(Pair, request, ExchangeHarness.Settings(Gemini3)));

        Assert.Equal("tools[0].name", error.Param);
        Assert.Contains("tools[0].function.name", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("messages[3].content", "input")]
    [InlineData("tools[1].function.parameters.properties", "tools[1].parameters.properties")]
    [InlineData("response_format.json_schema.schema", "text.format.schema")]
    [InlineData("reasoning_effort", "reasoning.effort")]
    [InlineData("max_completion_tokens", "max_output_tokens")]
    [InlineData("temperature", "temperature")]
    public void ChatFieldNames_MapBackToTheResponsesFieldsTheyCameFrom(string chat, string responses) =>
        Assert.Equal(responses, MixProxy.Translation.OpenAIResponsesToOpenAIChat.ResponsesOverChatExchange.ResponsesParam(chat));

    [Fact]
    public void StoredAnswers_AreNotCacheable_AndUnstoredOnesAreKeyedByTheirWholeBody()
    {
        var stored = ExchangeHarness.Parse(Pair, """{"model":"m","input":"Hi"}""");
        var plain = ExchangeHarness.Parse(Pair, """{"model":"m","input":"Hi","store":false}""");
        var tagged = ExchangeHarness.Parse(Pair, """{"model":"m","input":"Hi","store":false,"metadata":{"run":"2"}}""");

        Assert.False(stored.Cacheable);
        Assert.True(plain.Cacheable);

        // metadata never reaches the upstream but the answer repeats it: the two answers differ.
        Assert.NotEqual(plain.ResponseShape, tagged.ResponseShape);
    }

    [Fact]
    public void InputItems_ArePagedNewestFirstByDefault_AfterAnId_AndABadLimitIsRefused()
    {
        var record = Encoding.UTF8.GetBytes("""{"response":{},"input":[{"id":"a"},{"id":"b"},{"id":"c"}],"context":[]}""");
        string Page(Dictionary<string, string> query)
        {
            var output = new ArrayBufferWriter<byte>();
            StoredResponses.Instance.WriteInputItems(record, query, output);
            return Encoding.UTF8.GetString(output.WrittenSpan);
        }

        Assert.Equal("""{"object":"list","data":[{"id":"c"},{"id":"b"}],"first_id":"c","last_id":"b","has_more":true}""", Page(new() { ["limit"] = "2" }));
        Assert.Equal("""{"object":"list","data":[{"id":"b"},{"id":"c"}],"first_id":"b","last_id":"c","has_more":false}""", Page(new() { ["order"] = "asc", ["after"] = "a" }));
        Assert.Equal("limit", Assert.Throws<TranslationException>(() => Page(new() { ["limit"] = "0" })).Param);
        Assert.True(StoredResponses.Instance.IsWellFormedId("resp_0a1B-_"));
        Assert.False(StoredResponses.Instance.IsWellFormedId("resp_../x"));
        Assert.False(StoredResponses.Instance.IsWellFormedId("msg_abc"));
    }
}
