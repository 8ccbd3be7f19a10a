using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.OpenAIResponsesToOpenAIChat;

/// <summary>
/// <c>store</c> on a Responses request served through Chat Completions: a response is kept for reading and chaining
/// unless the client says <c>store: false</c>, and then it is answered all the same, with nothing kept.
/// </summary>
public sealed class ResponsesStoreTests
{
    private const string Pair = "openai-responses-to-openai-chat";

    private const string ChatReply = """
        {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",
         "choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}
        """;

    private const string ChatStream =
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello!\"},\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        + "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n"
        + "data: [DONE]\n\n";

    private static readonly UpstreamModelProfile Gpt = new() { UpstreamModel = "gpt-4o-mini" };

    [Theory]
    [InlineData("""{"model":"gpt-4o-mini","input":"Hi","store":false}""")]
    [InlineData("""{"model":"gpt-4o-mini","input":[{"role":"user","content":"Hi"}],"store":false}""")]
    public void WholeResponse_StoreFalse_IsAnsweredAndNothingIsKept(string body)
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, body), Gpt);

        var reply = System.Text.Json.Nodes.JsonNode.Parse(ExchangeHarness.TranslateResponse(call, ChatReply))!;

        Assert.Equal("completed", reply["status"]!.GetValue<string>());
        Assert.False(reply["store"]!.GetValue<bool>());
        Assert.Null(call.Outcome.ResultToStore);
    }

    [Fact]
    public async Task Stream_StoreFalse_CompletesAndNothingIsKept()
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, """{"model":"gpt-4o-mini","input":"Hi","store":false,"stream":true}"""), Gpt);

        var stream = await ExchangeHarness.TranslateStreamAsync(call, ChatStream, TestContext.Current.CancellationToken);

        Assert.Contains("event: response.completed", stream, StringComparison.Ordinal);
        Assert.Null(call.Outcome.ResultToStore);
    }

    [Fact]
    public void WholeResponse_StoreLeftOut_IsKeptUnderItsId()
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, """{"model":"gpt-4o-mini","input":"Hi"}"""), Gpt);

        var reply = System.Text.Json.Nodes.JsonNode.Parse(ExchangeHarness.TranslateResponse(call, ChatReply))!;

        Assert.Equal(reply["id"]!.GetValue<string>(), Assert.IsType<StoredResult>(call.Outcome.ResultToStore).Id);
    }
}
