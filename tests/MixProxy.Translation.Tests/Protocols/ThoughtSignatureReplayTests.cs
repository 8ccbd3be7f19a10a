using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>
/// A thought signature goes back only to the endpoint that issued it. A request that falls back to another endpoint
/// (<see cref="ExchangeSettings.ReplaySignatures"/> false) carries Google's bypass value wherever it would have carried
/// one, on every exchange; the golden cases <c>*-fallback-*</c> show each exchange's upstream body in full.
/// </summary>
public sealed class ThoughtSignatureReplayTests
{
    private const string GeminiPassthrough = "gemini-passthrough";
    private const string OpenAIPassthrough = "openai-chat-passthrough";

    private static readonly UpstreamModelProfile Gemini3 = new() { UpstreamModel = ExchangeHarness.GeminiClientModel, Thinking = ThinkingStyle.Level, RequiresThoughtSignatures = true };

    /// <summary>Every golden round trip that does not replay signatures.</summary>
    public static TheoryData<string> CasesWithoutReplay()
    {
        var data = new TheoryData<string>();
        foreach (var name in GoldenCase.Cases(GoldenTests.ExchangeKind).Select(row => row.Data))
        {
            if (!GoldenTests.RoundTrip.Read(name).Settings.ReplaySignatures)
            {
                data.Add(name);
            }
        }

        return data;
    }

    [Fact]
    public void CasesWithoutReplay_CoverEveryExchangeThatCarriesSignaturesUpstream()
    {
        var pairs = CasesWithoutReplay().Select(row => GoldenTests.Directions[GoldenTests.RoundTrip.Read(row.Data).Direction]).ToHashSet();

        Assert.Superset(new HashSet<string> { "openai-chat-to-gemini", GeminiPassthrough, OpenAIPassthrough }, pairs);
    }

    [Theory]
    [MemberData(nameof(CasesWithoutReplay))]
    public void Begin_WithoutReplay_SendsNoSignatureTheClientSentOrTheHostRecalled(string name)
    {
        var roundTrip = GoldenTests.RoundTrip.Read(name);
        var pair = GoldenTests.Directions[roundTrip.Direction];
        var clientBody = GoldenCase.Read(GoldenTests.ExchangeKind, name, "client-request.json");
        var request = ExchangeHarness.Parse(pair, clientBody, roundTrip.Stream, roundTrip.Sse);
        var original = SignaturesIn(JsonNode.Parse(clientBody)!).Concat(roundTrip.Settings.KnownSignatures?.Items.Values ?? []).ToList();
        Assert.NotEmpty(original);

        var upstream = Encoding.UTF8.GetString(ExchangeHarness.UpstreamBody(ExchangeHarness.Begin(pair, request, roundTrip.Settings), request).Span);

        Assert.All(original, signature => Assert.DoesNotContain(signature, upstream, StringComparison.Ordinal));
        Assert.Contains(ThoughtSignatures.Bypass, upstream, StringComparison.Ordinal);
    }

    [Fact]
    public void NeedsBody_GeminiPassthrough_ReadsTheBodyWhetherOrNotItsSignaturesMustBeReplaced()
    {
        var exchange = ExchangeHarness.ExchangeFor(GeminiPassthrough);
        var request = ExchangeHarness.MinimalRequest(GeminiPassthrough, stream: false);

        // Every body is read, to be checked before the upstream call (NestingDepthTests); replacing signatures needs it too.
        Assert.True(exchange.NeedsBody(request, replaySignatures: true));
        Assert.True(exchange.NeedsBody(request, replaySignatures: false));
    }

    [Theory]
    [InlineData(GeminiPassthrough)]
    [InlineData(OpenAIPassthrough)]
    public void Begin_PassthroughReplayingSignatures_SendsTheClientsBodyAsItCame(string pair)
    {
        var request = ExchangeHarness.Parse(pair, pair == GeminiPassthrough ? GeminiHistory : OpenAIHistory);

        var call = ExchangeHarness.Begin(pair, request, Gemini3);

        Assert.Null(call.Request.Body);
        Assert.Null(call.Request.Query);
    }

    [Fact]
    public void Begin_GeminiPassthroughWithoutReplay_ChangesOnlyTheSignaturesBytes()
    {
        var request = ExchangeHarness.Parse(GeminiPassthrough, GeminiHistory);

        var call = ExchangeHarness.Begin(GeminiPassthrough, request, ExchangeHarness.Settings(Gemini3) with { ReplaySignatures = false });

        var expected = GeminiHistory.Replace("\"c2lnLTE=\"", $"\"{ThoughtSignatures.Bypass}\"", StringComparison.Ordinal);
        Assert.Equal(expected, Encoding.UTF8.GetString(call.Request.Body!.Value.Span));
        Assert.Equal(GeminiVocabulary.Path(ExchangeHarness.GeminiClientModel, GeminiVocabulary.GenerateContent, GeminiVocabulary.DefaultVersion), call.Request.Path);
    }

    [Fact]
    public void Begin_GeminiPassthroughWithoutReplayUnderAnAlias_KeepsTheAliasPath()
    {
        var request = ExchangeHarness.Parse(GeminiPassthrough, GeminiHistory);
        var aliased = Gemini3 with { UpstreamModel = "gemini-3-flash-preview" };

        var call = ExchangeHarness.Begin(GeminiPassthrough, request, ExchangeHarness.Settings(aliased) with { ReplaySignatures = false });

        Assert.Equal(GeminiVocabulary.Path("gemini-3-flash-preview", GeminiVocabulary.GenerateContent, GeminiVocabulary.DefaultVersion), call.Request.Path);
        Assert.Contains(ThoughtSignatures.Bypass, Encoding.UTF8.GetString(call.Request.Body!.Value.Span), StringComparison.Ordinal);
    }

    [Fact]
    public void Begin_GeminiPassthroughWithoutReplayOnAHistoryWithoutSignatures_SendsTheBodyAsItCame()
    {
        var request = ExchangeHarness.MinimalRequest(GeminiPassthrough, stream: false);

        var call = ExchangeHarness.Begin(GeminiPassthrough, request, ExchangeHarness.Settings(Gemini3) with { ReplaySignatures = false });

        Assert.Null(call.Request.Body);
    }

    [Fact]
    public void Begin_GeminiPassthroughWithoutReplayOnAnUnreadBody_IsTheHostsBug()
    {
        var head = new ExchangeHarness.FakeHead { ContentLength = 10 };
        head.RouteValues[GeminiVocabulary.ModelRouteValue] = ExchangeHarness.GeminiClientModel;
        var request = GeminiClientApi.Instance.Parse(GeminiClientApi.Instance.GenerateContent, head, body: null);

        Assert.Throws<InvalidOperationException>(() => ExchangeHarness.Begin(GeminiPassthrough, request, ExchangeHarness.Settings(Gemini3) with { ReplaySignatures = false }));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Begin_GeminiClientOnAChatUpstream_SendsNoSignatureEitherWay(bool replay)
    {
        const string pair = "gemini-to-openai-chat";
        var request = ExchangeHarness.Parse(pair, GeminiHistory);

        var call = ExchangeHarness.Begin(pair, request, ExchangeHarness.Settings(new UpstreamModelProfile { UpstreamModel = "gpt-x" }) with { ReplaySignatures = replay });

        var upstream = Encoding.UTF8.GetString(call.Request.Body!.Value.Span);
        Assert.DoesNotContain("c2lnLTE=", upstream, StringComparison.Ordinal);
        Assert.DoesNotContain(ThoughtSignatures.Bypass, upstream, StringComparison.Ordinal);
    }

    // A call the model made with its signature, answered; the spacing is the client's own and must survive.
    private const string GeminiHistory = """
        {"contents": [
          {"role": "user", "parts": [{"text": "Weather?"}]},
          {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}, "thoughtSignature": "c2lnLTE="}]},
          {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"output": "cold"}}}]}
        ]}
        """;

    private const string OpenAIHistory = """
        {"model": "gemini-3.1-pro-preview", "messages": [
          {"role": "user", "content": "Weather?"},
          {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}, "extra_content": {"google": {"thought_signature": "c2lnLTE="}}}]},
          {"role": "tool", "tool_call_id": "c1", "content": "cold"}
        ]}
        """;

    /// <summary>The signatures a client request carries where its protocol puts them.</summary>
    private static IEnumerable<string> SignaturesIn(JsonNode request) =>
        (request["messages"]?.AsArray() ?? [])
            .SelectMany(m => m?["tool_calls"]?.AsArray() ?? [])
            .Select(c => c?["extra_content"]?["google"]?["thought_signature"])
            .Concat((request["contents"]?.AsArray() ?? [])
                .SelectMany(c => c?["parts"]?.AsArray() ?? [])
                .SelectMany(p => new[] { p?["thoughtSignature"], p?["thought_signature"] }))
            .OfType<JsonValue>()
            .Select(v => v.GetValue<string>());
}
