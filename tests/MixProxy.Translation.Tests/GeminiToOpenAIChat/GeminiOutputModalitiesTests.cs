using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.GeminiToOpenAIChat;

/// <summary>
/// A Gemini client's output settings on a Chat Completions upstream: text is what Chat answers by default; audio and
/// image answers are refused (the gateway does not carry them back yet); a voice for an answer that has no audio is
/// dropped and reported; a cached context is refused, since the question would go up without it.
/// </summary>
public sealed class GeminiOutputModalitiesTests
{
    private const string Pair = "gemini-to-openai-chat";
    private static readonly UpstreamModelProfile Chat = new() { UpstreamModel = "gpt-x" };

    private static ExchangeCall Begin(string generationConfig, UpstreamModelProfile? profile = null) =>
        ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, $$"""{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{{generationConfig}}}"""), profile ?? Chat);

    [Theory]
    [InlineData("""{"responseModalities":["TEXT"]}""")]
    [InlineData("""{"response_modalities":["text"]}""")]
    public void TextOnly_IsChatsDefault_AndNothingIsDroppedOrAdded(string config)
    {
        var call = Begin(config);

        var sent = JsonNode.Parse(call.Request.Body!.Value.Span)!.AsObject();
        Assert.False(sent.ContainsKey("modalities"));
        Assert.Empty(call.Dropped);
    }

    [Theory]
    [InlineData("""{"responseModalities":["TEXT","IMAGE"]}""", "generationConfig.responseModalities[1]")]
    [InlineData("""{"responseModalities":["AUDIO"]}""", "generationConfig.responseModalities[0]")]
    [InlineData("""{"responseModalities":"TEXT"}""", "generationConfig.responseModalities")]
    public void OtherModalities_AreRefusedNamingThem(string config, string param)
    {
        var error = Assert.Throws<TranslationException>(() => Begin(config));

        Assert.Equal(param, error.Param);
    }

    [Fact]
    public void SpeechConfigWithoutAudio_IsDroppedAndReported()
    {
        var call = Begin("""{"responseModalities":["TEXT"],"speechConfig":{"voiceConfig":{"prebuiltVoiceConfig":{"voiceName":"Kore"}}}}""");

        Assert.Equal(["generationConfig.speechConfig"], call.Dropped);
        Assert.DoesNotContain("Kore", System.Text.Encoding.UTF8.GetString(call.Request.Body!.Value.Span), StringComparison.Ordinal);
    }

    [Fact]
    public void SpeechConfigWithoutAudio_OnAStrictModel_IsRefused()
    {
        var error = Assert.Throws<TranslationException>(() => Begin("""{"speech_config":{"languageCode":"fr-FR"}}""", Chat with { StrictTranslation = true }));

        Assert.Equal("generationConfig.speech_config", error.Param);
    }

    [Fact]
    public void CachedContent_IsRefused_InEitherSpelling()
    {
        var error = Assert.Throws<TranslationException>(() =>
            ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, """{"cached_content":"cachedContents/x","contents":[{"role":"user","parts":[{"text":"Hi"}]}]}"""), Chat));

        Assert.Equal("cached_content", error.Param);
    }
}
