using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.OpenAIChatToGemini;

/// <summary>
/// Gemini 3 pairs function results with calls by the ids it issued, so those go back; a call Gemini gave no id gets one
/// the gateway mints for the client, which Gemini never saw and is not sent. A model configured with FunctionCallIds
/// gets every id.
/// </summary>
public sealed class FunctionCallIdTests
{
    private const string Pair = "openai-chat-to-gemini";

    private static readonly UpstreamModelProfile Gemini3 = new() { UpstreamModel = "gemini-3.1-pro-preview", Thinking = ThinkingStyle.Level, RequiresThoughtSignatures = true };

    private static readonly UpstreamModelProfile Gemini25 = new() { UpstreamModel = "gemini-2.5-flash", Thinking = ThinkingStyle.Budget };

    private const string UnnamedCall = """{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{}},"thoughtSignature":"c2ln"}]},"finishReason":"STOP"}]}""";

    private static string MintedId()
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.MinimalRequest(Pair, stream: false), Gemini3);
        var reply = JsonNode.Parse(ExchangeHarness.TranslateResponse(call, UnnamedCall))!;
        return reply["choices"]![0]!["message"]!["tool_calls"]![0]!["id"]!.GetValue<string>();
    }

    private static JsonNode Replayed(string id, UpstreamModelProfile profile)
    {
        var body = """
            {"model":"m","messages":[{"role":"user","content":"Weather?"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"ID","type":"function","function":{"name":"get_weather","arguments":"{}"},"extra_content":{"google":{"thought_signature":"c2ln"}}}]},
             {"role":"tool","tool_call_id":"ID","content":"sunny"}]}
            """.Replace("ID", id, StringComparison.Ordinal);
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, body), profile);
        return JsonNode.Parse(Encoding.UTF8.GetString(call.Request.Body!.Value.Span))!["contents"]!;
    }

    [Fact]
    public void AnIdTheGatewayMinted_IsShortEnoughForOpenAI_AndNeverSentToGemini3()
    {
        var minted = MintedId();
        var contents = Replayed(minted, Gemini3);

        Assert.True(minted.Length <= 40, minted);
        Assert.Null(contents[1]!["parts"]![0]!["functionCall"]!["id"]);
        Assert.Null(contents[2]!["parts"]![0]!["functionResponse"]!["id"]);
    }

    [Fact]
    public void AnIdGeminiIssued_GoesBackOnTheCallAndItsResult_OnGemini3()
    {
        var contents = Replayed("fc_7d2k", Gemini3);

        Assert.Equal("fc_7d2k", contents[1]!["parts"]![0]!["functionCall"]!["id"]!.GetValue<string>());
        Assert.Equal("fc_7d2k", contents[2]!["parts"]![0]!["functionResponse"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public void Ids_AreNotSentToAModelThatIssuesNone_UnlessConfiguredWithFunctionCallIds()
    {
        Assert.Null(Replayed("fc_7d2k", Gemini25)[1]!["parts"]![0]!["functionCall"]!["id"]);
        Assert.Equal("fc_7d2k", Replayed("fc_7d2k", Gemini25 with { SupportsFunctionCallIds = true })[1]!["parts"]![0]!["functionCall"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public void FunctionCallIds_SendsEvenTheIdsTheGatewayMinted_SoEveryResultPairsByIdOnUpstreamsThatWantIt()
    {
        var minted = MintedId();

        Assert.Equal(minted, Replayed(minted, Gemini3 with { SupportsFunctionCallIds = true })[2]!["parts"]![0]!["functionResponse"]!["id"]!.GetValue<string>());
    }
}
