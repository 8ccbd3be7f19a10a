using System.Text;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.Gemini;

/// <summary>
/// A Gemini client passed through to an upstream that takes only Google's own spellings (cluster
/// <c>MixProxy.UpstreamDialect: Strict</c>): the provider page's search tool is spliced into Google's, and nothing else
/// of the body changes, byte for byte. The golden round trips (<c>Golden/exchange/gp-strict-…</c>) show the JSON.
/// </summary>
public sealed class StrictUpstreamPassthroughTests
{
    private const string Pair = "gemini-passthrough";

    private static readonly UpstreamModelProfile Model = new() { UpstreamModel = ExchangeHarness.GeminiClientModel };

    private static ExchangeSettings Settings(UpstreamDialect dialect) => ExchangeHarness.Settings(Model) with { Dialect = dialect };

    [Fact]
    public void StrictUpstream_SearchToolInTheProviderSpelling_IsSplicedAndEveryOtherByteKept()
    {
        const string body = "{ \"contents\" : [{\"parts\":[{\"text\":\"caf\\u00e9 \"}]}],\n  \"tools\":[ {\"type\":\"function\",\"function\":{\"name\":\"web_search\"}} , {\"codeExecution\":{}} ],\"generationConfig\":{\"temperature\":1.0E0} }";
        var request = ExchangeHarness.Parse(Pair, body);

        var call = ExchangeHarness.Begin(Pair, request, Settings(UpstreamDialect.Strict));

        Assert.Equal(
            "{ \"contents\" : [{\"parts\":[{\"text\":\"caf\\u00e9 \"}]}],\n  \"tools\":[ {\"googleSearch\":{}} , {\"codeExecution\":{}} ],\"generationConfig\":{\"temperature\":1.0E0} }",
            Encoding.UTF8.GetString(ExchangeHarness.UpstreamBody(call, request).Span));
    }

    [Fact]
    public void StrictUpstream_BodyInGooglesSpellingAlready_GoesUpAsItCame()
    {
        var request = ExchangeHarness.Parse(Pair, """{"contents":[{"parts":[{"text":"Hi"}]}],"tools":[{"googleSearch":{}}]}""");

        var call = ExchangeHarness.Begin(Pair, request, Settings(UpstreamDialect.Strict));

        Assert.Null(call.Request.Body);
    }

    [Fact]
    public void LenientUpstream_ProviderSpelling_GoesUpAsItCame()
    {
        var request = ExchangeHarness.Parse(Pair, """{"contents":[{"parts":[{"text":"Hi"}]}],"tools":[{"function":{"name":"web_search"},"type":"function"}]}""");

        var call = ExchangeHarness.Begin(Pair, request, Settings(UpstreamDialect.Lenient));

        Assert.Null(call.Request.Body);
        Assert.True(ExchangeHarness.ExchangeFor(Pair).NeedsBody(request, replaySignatures: true, UpstreamDialect.Strict));
    }

    [Fact]
    public void StrictUpstream_FallbackWithSignatures_GetsBothRewrites()
    {
        var request = ExchangeHarness.Parse(Pair, """{"contents":[{"role":"model","parts":[{"text":"x","thoughtSignature":"c2ln"}]}],"tools":[{"function":{"name":"web_search"},"type":"function"}]}""");

        var call = ExchangeHarness.Begin(Pair, request, Settings(UpstreamDialect.Strict) with { ReplaySignatures = false });

        Assert.Equal(
            "{\"contents\":[{\"role\":\"model\",\"parts\":[{\"text\":\"x\",\"thoughtSignature\":\"skip_thought_signature_validator\"}]}],\"tools\":[{\"googleSearch\":{}}]}",
            Encoding.UTF8.GetString(ExchangeHarness.UpstreamBody(call, request).Span));
    }
}
