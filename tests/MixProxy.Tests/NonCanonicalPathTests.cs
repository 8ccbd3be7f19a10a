using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// Routes match paths case-insensitively and with a trailing slash, as ASP.NET routing does; what goes upstream is
/// built from what the route parsed (API version, model, method), never the path as the client wrote it: an upstream
/// that matches exactly would answer the client's spelling with its own 404 page (issue 15, item 7).
/// </summary>
public sealed class NonCanonicalPathTests
{
    private const string GeminiBody = """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""";
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""";
    private const string ResponsesBody = """{"model":"house-responses","input":"Hi"}""";

    public static TheoryData<string, string, string> Spellings() => new()
    {
        { "/v1beta/models/gemini-3.1-pro-preview:generateContent/", GeminiBody, "/v1beta/models/gemini-3.1-pro-preview:generateContent" },
        { "/V1BETA/models/gemini-3.1-pro-preview:generateContent", GeminiBody, "/v1beta/models/gemini-3.1-pro-preview:generateContent" },
        { "/v1beta/MODELS/gemini-3.1-pro-preview:GENERATECONTENT", GeminiBody, "/v1beta/models/gemini-3.1-pro-preview:generateContent" },
        { "/V1/models/gemini-3.1-pro-preview:generateContent/", GeminiBody, "/v1/models/gemini-3.1-pro-preview:generateContent" },
        { "/v1beta/models/gemini-3.1-pro-preview:StreamGenerateContent/?alt=sse", GeminiBody, "/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent" },
        { "/V1BETA/models/gemini-3.1-pro-preview:countTokens/", GeminiBody, "/v1beta/models/gemini-3.1-pro-preview:countTokens" },
        { "/v1beta/models/alias-flash:GenerateContent/", GeminiBody, "/v1beta/models/gemini-2.5-flash:generateContent" },
        { "/V1/CHAT/COMPLETIONS/", ChatBody, "/v1/chat/completions" },
        { "/v1/Chat/Completions", ChatBody, "/v1/chat/completions" },
        { "/V1/RESPONSES/", ResponsesBody, "/v1/responses" },
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public async Task Passthrough_PathSpelledOtherwise_GoesUpstreamInItsCanonicalForm(string path, string body, string upstreamPath)
    {
        await using var gateway = await GatewayFixture.StartAsync(config =>
            config["Models"]!.AsArray().Add(new JsonObject { ["Name"] = "house-responses", ["Cluster"] = "sim", ["Protocols"] = new JsonArray("OpenAIResponses") }));
        using var client = gateway.CreateClient();

        var (status, _, _) = await client.PostJsonAsync(path, body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(upstreamPath, Assert.Single(gateway.Upstream.Received).Path);
    }

    [Fact]
    public async Task GeminiClientOnOpenAIUpstream_PathSpelledOtherwise_StillReachesTheChatPath()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, _, _) = await client.PostJsonAsync("/V1BETA/models/gpt-4o-mini:generateContent/", GeminiBody);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("/v1/chat/completions", Assert.Single(gateway.Upstream.Received).Path);
    }
}
