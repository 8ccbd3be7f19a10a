using System.Text;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>Reading a request into its facts: once, and refusing a body that is not JSON text before any translator reads it.</summary>
public sealed class ClientApiTests
{
    [Theory]
    [InlineData("""{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"\ud800"}]}""")]
    [InlineData("""{"model":"gemini-\udfff","messages":[{"role":"user","content":"Hi"}]}""")]
    public void Parse_EscapedLoneSurrogate_IsRefusedAsBadInput(string body)
    {
        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Parse("openai-chat-to-gemini", body));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains("not valid Unicode", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BytesThatAreNotUtf8_AreRefusedAsBadInput()
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"gemini-X","messages":[{"role":"user","content":"Hi"}]}""");
        body[Array.IndexOf(body, (byte)'X')] = 0xFF;
        var api = OpenAIChatClientApi.Instance;

        var error = Assert.Throws<TranslationException>(() => api.Parse(api.Chat, new ExchangeHarness.FakeHead(), body));

        Assert.Equal(400, error.StatusCode);
    }

    /// <summary>The gateway would check the key against one model and an upstream that keeps the other name would serve it.</summary>
    [Theory]
    [InlineData("openai-chat-to-gemini", """{"model":"premium","messages":[{"role":"user","content":"Hi"}],"model":"allowed"}""")]
    [InlineData("openai-chat-to-gemini", """{"model":"m","messages":[{"role":"user","content":"Hi","content":"Bye"}]}""")]
    [InlineData("gemini-to-openai-chat", """{"contents":[{"parts":[{"text":"Hi"}]}],"contents":[{"parts":[{"text":"Bye"}]}]}""")]
    public void Parse_ABodyThatNamesAFieldTwice_IsRefusedAsBadInput(string pair, string body)
    {
        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Parse(pair, body));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ValidSurrogatePairAndOtherEscapes_AreText()
    {
        var request = ExchangeHarness.Parse("openai-chat-to-gemini", """{"model":"m","messages":[{"role":"user","content":"\ud83d\ude00 \u00e9 \n \"q\""}]}""");

        Assert.Equal("m", request.Model);
    }

    [Fact]
    public void Parse_GeminiBodyNotRead_TakesTheModelFromTheUrlAndTheDeclaredSize()
    {
        var api = GeminiClientApi.Instance;
        var head = new ExchangeHarness.FakeHead { ContentLength = 1234 };
        head.RouteValues[GeminiVocabulary.ModelRouteValue] = "gemini-3.1-pro-preview";

        var request = api.Parse(api.StreamGenerateContent, head, body: null);

        Assert.Equal("gemini-3.1-pro-preview", request.Model);
        Assert.True(request.Stream);
        Assert.False(request.BodyRead);
        Assert.Equal(1234, request.BodyBytes);
        Assert.Null(request.Document);
    }

    [Fact]
    public void Parse_EndpointOfAnotherApi_IsABugNotBadInput()
    {
        Assert.Throws<ArgumentException>(() => GeminiClientApi.Instance.Parse(OpenAIChatClientApi.Instance.Chat, new ExchangeHarness.FakeHead(), "{}"u8.ToArray()));
    }
}
