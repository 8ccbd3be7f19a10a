using System.Text;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>
/// Every exchange names the upstream path, built from what the client's route parsed (API version, model, method):
/// the path as the client spelled it (another case, a trailing slash) never goes upstream.
/// </summary>
public sealed class UpstreamPathTests
{
    private static readonly UpstreamModelProfile SameModel = new() { UpstreamModel = ExchangeHarness.GeminiClientModel };

    public static TheoryData<string, bool, string> Paths() => new()
    {
        { "gemini-passthrough", false, "/v1beta/models/gemini-3.1-pro-preview:generateContent" },
        { "gemini-passthrough", true, "/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent" },
        { "openai-chat-to-gemini", false, "/v1beta/models/gemini-3.1-pro-preview:generateContent" },
        { "openai-chat-to-gemini", true, "/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent" },
        { "openai-responses-to-gemini", false, "/v1beta/models/gemini-3.1-pro-preview:generateContent" },
        { "gemini-to-openai-chat", false, "/v1/chat/completions" },
        { "openai-responses-to-openai-chat", false, "/v1/chat/completions" },
        { "openai-chat-passthrough", false, "/v1/chat/completions" },
        { "openai-chat-passthrough", true, "/v1/chat/completions" },
        { "openai-responses-passthrough", false, "/v1/responses" },
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Begin_EveryExchange_NamesItsCanonicalUpstreamPath(string pair, bool stream, string path)
    {
        var request = ExchangeHarness.MinimalRequest(pair, stream);

        var call = ExchangeHarness.Begin(pair, request, SameModel);

        Assert.Equal(path, call.Request.Path);
    }

    [Theory]
    [InlineData("V1BETA", "v1beta")]
    [InlineData("V1", "v1")]
    [InlineData("v1Beta", "v1beta")]
    public void Parse_GeminiVersionInAnotherCase_IsReadInGooglesSpelling(string routeVersion, string version)
    {
        var api = GeminiClientApi.Instance;
        var head = new ExchangeHarness.FakeHead();
        head.RouteValues[GeminiVocabulary.ModelRouteValue] = ExchangeHarness.GeminiClientModel;
        head.RouteValues[GeminiVocabulary.VersionRouteValue] = routeVersion;

        var request = (GeminiClientRequest)api.Parse(api.CountTokens, head, Encoding.UTF8.GetBytes("""{"contents":[{"parts":[{"text":"Hi"}]}]}"""));
        var call = ExchangeHarness.Begin("gemini-passthrough", request, SameModel);

        Assert.Equal(version, request.Version);
        Assert.Equal($"/{version}/models/gemini-3.1-pro-preview:countTokens", call.Request.Path);
    }
}
