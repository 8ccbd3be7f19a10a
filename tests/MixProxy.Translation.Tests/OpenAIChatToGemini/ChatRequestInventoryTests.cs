using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.OpenAIChatToGemini;

/// <summary>
/// Every field of a Chat Completions request on its way to Gemini is mapped, dropped and reported, or refused: the
/// bookkeeping fields Gemini has no place for are reported, not ignored; a field that would change the answer is
/// refused; another provider's extra is dropped and reported, not forwarded or lost without a word.
/// </summary>
public sealed class ChatRequestInventoryTests
{
    private const string Chat = "openai-chat-to-gemini";
    private const string Responses = "openai-responses-to-gemini";
    private static readonly UpstreamModelProfile Gemini3 = GoldenTests.DefaultProfile(Chat);

    private static ExchangeCall Begin(string fields, UpstreamModelProfile? profile = null) => ExchangeHarness.Begin(
        Chat, ExchangeHarness.Parse(Chat, $$"""{"model":"m","messages":[{"role":"user","content":"Hi"}],{{fields}}}"""), profile ?? Gemini3);

    [Theory]
    [InlineData("\"user\":\"u-42\"", "user")]
    [InlineData("\"safety_identifier\":\"hash\"", "safety_identifier")]
    [InlineData("\"metadata\":{\"team\":\"search\"}", "metadata")]
    [InlineData("\"store\":true", "store")]
    [InlineData("\"service_tier\":\"flex\"", "service_tier")]
    [InlineData("\"prompt_cache_key\":\"k\"", "prompt_cache_key")]
    [InlineData("\"prediction\":{\"type\":\"content\",\"content\":\"x\"}", "prediction")]
    [InlineData("\"min_p\":0.05", "min_p")]
    [InlineData("\"stream_options\":{\"include_obfuscation\":true}", "stream_options.include_obfuscation")]
    [InlineData("\"web_search_options\":{\"search_context_size\":\"low\"}", "web_search_options.search_context_size")]
    [InlineData("\"extra_body\":{\"google\":{\"labels\":{\"a\":\"b\"}}}", "extra_body.google.labels")]
    public void AFieldGeminiHasNoPlaceFor_IsDroppedAndReported_NotIgnored(string fields, string param)
    {
        var call = Begin(fields);

        Assert.Equal([param], call.Dropped);
        Assert.DoesNotContain($"\"{param[(param.LastIndexOf('.') + 1)..]}\":", Encoding.UTF8.GetString(call.Request.Body!.Value.Span), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"store\":false")]
    [InlineData("\"service_tier\":\"auto\"")]
    [InlineData("\"logit_bias\":{}")]
    [InlineData("\"metadata\":{}")]
    public void AFieldThatAsksForNothing_IsNotReported(string fields) => Assert.Empty(Begin(fields).Dropped);

    [Fact]
    public void LogitBias_IsRefused_SinceTheAnswerWouldDiffer() =>
        Assert.Equal("logit_bias", Assert.Throws<TranslationException>(() => Begin("\"logit_bias\":{\"50256\":-100}")).Param);

    [Fact]
    public void MessageAndPartExtras_AreReportedWithTheirPosition()
    {
        var call = ExchangeHarness.Begin(Chat, ExchangeHarness.Parse(Chat, """
            {"model":"m","messages":[{"role":"user","name":"ann","content":[{"type":"text","text":"Hi","cache_control":{"type":"ephemeral"}}]}]}
            """), Gemini3);

        Assert.Equal(["messages[0].name", "messages[0].content[0].cache_control"], call.Dropped);
    }

    [Fact]
    public void APreviousAudioAnswer_IsRefused()
    {
        var request = ExchangeHarness.Parse(Chat, """
            {"model":"m","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":null,"audio":{"id":"audio_1"}},{"role":"user","content":"Again"}]}
            """);

        Assert.Equal("messages[1].audio", Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(Chat, request, Gemini3)).Param);
    }

    [Fact]
    public void StrictFunctions_AreReported_UnderTheirResponsesNameThroughTheBridge()
    {
        const string Tool = "{\"type\":\"function\",\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"a\"],\"additionalProperties\":false},\"strict\":true}";
        var call = ExchangeHarness.Begin(Responses, ExchangeHarness.Parse(Responses, $$"""{"model":"m","input":"Hi","tools":[{{Tool}}]}"""), Gemini3);

        Assert.Equal(["tools[0].strict"], call.Dropped);
    }

    [Fact]
    public void AReportedField_OnAStrictModel_IsRefused() =>
        Assert.Equal("user", Assert.Throws<TranslationException>(() => Begin("\"user\":\"u-42\"", Gemini3 with { StrictTranslation = true })).Param);
}
