using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MixProxy.Translation.Chat;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Streaming;

namespace MixProxy.Translation.Tests;

/// <summary>
/// Gemini clients on OpenAI-compatible upstreams: Gemini request → Chat Completions (<c>Golden/gemini-request</c>),
/// chat completion → Gemini response (<c>Golden/chat-response</c>) and OpenAI stream → Gemini stream, SSE or JSON array
/// (<c>Golden/chat-stream</c>). The upstream model is <c>gpt-x</c>; the client asked for <c>gemini-3.1-pro-preview</c>.
/// </summary>
public sealed class ReverseTranslationTests
{
    private static readonly UpstreamModelProfile Profile = new() { UpstreamModel = "gpt-x", Thinking = ThinkingStyle.Level };

    private static ResponseContext Context => new() { ClientModel = "gemini-3.1-pro-preview", Created = 1_700_000_000 };

    public static TheoryData<string> RequestCases => GoldenCase.Cases("gemini-request");

    public static TheoryData<string> ResponseCases => GoldenCase.Cases("chat-response");

    public static TheoryData<string> StreamCases => GoldenCase.Cases("chat-stream");

    [Theory]
    [MemberData(nameof(RequestCases))]
    public void Translate_GoldenGeminiRequest_MatchesExpectedChatRequestOrError(string name)
    {
        using var input = JsonDocument.Parse(GoldenCase.Read("gemini-request", name, "input.json"));
        var stream = GoldenCase.ReadJson("gemini-request", name, "stream.json")["Stream"]!.GetValue<bool>();
        var output = new ArrayBufferWriter<byte>();

        if (GoldenCase.Has("gemini-request", name, "expected-error.json"))
        {
            var expected = GoldenCase.ReadJson("gemini-request", name, "expected-error.json");
            var error = Assert.Throws<TranslationException>(() => GeminiToChatRequestTranslator.Translate(input.RootElement, Profile, stream, output));
            Assert.Equal(expected["param"]?.GetValue<string>(), error.Param);
            Assert.Contains(expected["message"]!.GetValue<string>(), error.Message, StringComparison.Ordinal);
            return;
        }

        GeminiToChatRequestTranslator.Translate(input.RootElement, Profile, stream, output);
        GoldenCase.AssertJsonMatches(GoldenCase.ReadJson("gemini-request", name, "expected.json"), JsonNode.Parse(output.WrittenSpan));
    }

    [Theory]
    [MemberData(nameof(ResponseCases))]
    public void Translate_GoldenChatCompletion_MatchesExpectedGeminiResponse(string name)
    {
        var output = new ArrayBufferWriter<byte>();

        ChatToGeminiResponseTranslator.Translate(Encoding.UTF8.GetBytes(GoldenCase.Read("chat-response", name, "input.json")), Context, output);

        GoldenCase.AssertJsonMatches(GoldenCase.ReadJson("chat-response", name, "expected.json"), JsonNode.Parse(output.WrittenSpan));
    }

    [Theory]
    [MemberData(nameof(StreamCases))]
    public async Task Translate_GoldenChatStream_MatchesExpectedGeminiStream(string name)
    {
        var sse = GoldenCase.ReadJson("chat-stream", name, "options.json")["Sse"]!.GetValue<bool>();
        var translator = new ChatToGeminiStreamTranslator(Context, sse);
        using var upstream = new MemoryStream(Encoding.UTF8.GetBytes(GoldenCase.Read("chat-stream", name, "input.sse")));
        await using var translated = new TranslatingSseStream(upstream, translator, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(translated, Encoding.UTF8);
        var actual = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
        var expected = GoldenCase.Read("chat-stream", name, "expected.sse");

        var actualEvents = sse ? GoldenCase.SseData(actual).Select(e => JsonNode.Parse(e)).ToList() : JsonNode.Parse(actual)!.AsArray().Select(e => e).ToList();
        var expectedEvents = sse ? GoldenCase.SseData(expected).Select(e => JsonNode.Parse(e)).ToList() : JsonNode.Parse(expected)!.AsArray().Select(e => e).ToList();
        Assert.Equal(expectedEvents.Count, actualEvents.Count);
        for (var i = 0; i < expectedEvents.Count; i++)
        {
            GoldenCase.AssertJsonMatches(expectedEvents[i], actualEvents[i], $"event[{i}]");
        }

        if (sse)
        {
            Assert.DoesNotContain("[DONE]", actual, StringComparison.Ordinal); // Gemini streams have no terminator
        }
    }
}
