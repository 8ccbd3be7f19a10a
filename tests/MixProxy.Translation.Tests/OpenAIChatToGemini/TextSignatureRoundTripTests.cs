using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.OpenAIChatToGemini;

/// <summary>
/// What the gateway put in an answer's <c>extra_content.google</c>, sent back on the assistant message of the next
/// request: the signature Gemini put on a text part goes back on the turn's last text part (Gemini asks for these
/// back, though it validates only call signatures); what describes the earlier answer (model version, safety ratings,
/// search suggestions) asks nothing and is not sent or reported; code the model ran cannot be placed back and is
/// dropped and reported.
/// </summary>
public sealed class TextSignatureRoundTripTests
{
    private const string Chat = "openai-chat-to-gemini";
    private static readonly UpstreamModelProfile Gemini3 = GoldenTests.DefaultProfile(Chat);

    private static ExchangeCall Begin(string assistantExtra, bool replaySignatures = true) => ExchangeHarness.Begin(
        Chat,
        ExchangeHarness.Parse(Chat, $$"""
            {"model":"m","messages":[{"role":"user","content":"Hi"},
              {"role":"assistant","content":[{"type":"text","text":"Hello."},{"type":"text","text":" How can I help?"}],"extra_content":{{assistantExtra}}},
              {"role":"user","content":"Tell me a joke"}]}
            """),
        ExchangeHarness.Settings(Gemini3) with { ReplaySignatures = replaySignatures });

    private static JsonArray ModelParts(ExchangeCall call) =>
        JsonNode.Parse(call.Request.Body!.Value.Span)!["contents"]!.AsArray().Single(c => c!["role"]!.GetValue<string>() == "model")!["parts"]!.AsArray();

    [Fact]
    public void TheTextsSignature_GoesBackOnTheTurnsLastTextPart_AndTheAnswersRecordsAskNothing()
    {
        var call = Begin("""{"google":{"thought_signature":"dGV4dC1zaWc=","model_version":"gemini-x","safety_ratings":[],"web_search_queries":["q"]}}""");

        var parts = ModelParts(call);
        Assert.Equal(2, parts.Count);
        Assert.Null(parts[0]!["thoughtSignature"]);
        Assert.Equal("dGV4dC1zaWc=", parts[1]!["thoughtSignature"]!.GetValue<string>());
        Assert.Empty(call.Dropped);
    }

    [Theory]
    [InlineData("""{"google":{"thought_signature":"not base64!"}}""", true)]
    [InlineData("""{"google":{"thought_signature":"dGV4dC1zaWc="}}""", false)]
    public void ASignatureLostOnTheWay_OrForAnotherEndpoint_IsNotSent(string extra, bool replaySignatures)
    {
        var parts = ModelParts(Begin(extra, replaySignatures));

        Assert.All(parts, part => Assert.Null(part!["thoughtSignature"]));
    }

    [Fact]
    public void CodeTheModelRan_AndOtherVendorsData_AreDroppedAndReported()
    {
        var call = Begin("""{"google":{"code_execution":[{"type":"executable_code","language":"PYTHON","code":"1"}]},"other_vendor":{"x":1}}""");

        Assert.Equal(["messages[1].extra_content.google.code_execution", "messages[1].extra_content.other_vendor"], call.Dropped);
    }
}
