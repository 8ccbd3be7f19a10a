using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.OpenAIChatToGemini;

/// <summary>
/// The drop-and-report policy on the Chat → Gemini side, and through the Responses bridge: a hint Gemini has no place
/// for (<c>verbosity</c>) goes up without it and is reported in the client's own notation; a StrictTranslation model
/// refuses it; a value of the wrong kind is refused either way.
/// </summary>
public sealed class ChatToGeminiDroppedFieldsTests
{
    private const string Chat = "openai-chat-to-gemini";
    private const string Responses = "openai-responses-to-gemini";

    private static readonly UpstreamModelProfile Gemini3 = GoldenTests.DefaultProfile(Chat);

    [Fact]
    public void Verbosity_IsDroppedAndReported_AndTheRestGoesUp()
    {
        var call = ExchangeHarness.Begin(Chat, ExchangeHarness.Parse(Chat, """{"model":"m","messages":[{"role":"user","content":"Hi"}],"verbosity":"low","temperature":0.5}"""), Gemini3);

        Assert.Equal(["verbosity"], call.Dropped);
        var sent = JsonNode.Parse(call.Request.Body!.Value.Span)!;
        Assert.Equal(0.5, sent["generationConfig"]!["temperature"]!.GetValue<double>());
        Assert.DoesNotContain("verbosity", sent.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Verbosity_OnAStrictModel_IsRefusedNamingIt()
    {
        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(Chat, ExchangeHarness.Parse(Chat, """{"model":"m","messages":[{"role":"user","content":"Hi"}],"verbosity":"high"}"""), Gemini3 with { StrictTranslation = true }));

        Assert.Equal("verbosity", error.Param);
        Assert.Contains("StrictTranslation", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verbosity_OfAnUnknownValue_IsRefusedEvenWhenItWouldBeDropped()
    {
        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(Chat, ExchangeHarness.Parse(Chat, """{"model":"m","messages":[{"role":"user","content":"Hi"}],"verbosity":"terse"}"""), Gemini3));

        Assert.Equal("verbosity", error.Param);
    }

    [Fact]
    public void TextVerbosity_ThroughTheResponsesBridge_IsReportedUnderItsResponsesName()
    {
        var call = ExchangeHarness.Begin(Responses, ExchangeHarness.Parse(Responses, """{"model":"m","input":"Hi","text":{"verbosity":"low"}}"""), Gemini3);

        Assert.Equal(["text.verbosity"], call.Dropped);
    }

    [Fact]
    public void NothingDropped_ReportsNothing() =>
        Assert.Empty(ExchangeHarness.Begin(Chat, ExchangeHarness.Parse(Chat, """{"model":"m","messages":[{"role":"user","content":"Hi"}]}"""), Gemini3).Dropped);
}
