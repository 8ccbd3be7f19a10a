using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// A body that nests objects and arrays deeper than the gateway reads (64 levels) is refused with a 400 in the client's
/// protocol on every route, translated and passed through, before any upstream call: passed on, it would make every
/// parser after the gateway do the work the gateway declined (issue 15, "also seen").
/// </summary>
public sealed class NestingDepthTests
{
    private static readonly string TooDeep = new string('[', 10_000) + new string(']', 10_000);

    public static TheoryData<string, string, bool> Routes() => new()
    {
        { "Gemini passthrough", "/v1beta/models/gemini-3.1-pro-preview:generateContent", true },
        { "Gemini passthrough, stream", "/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse", true },
        { "Gemini passthrough, countTokens", "/v1/models/gemini-3.1-pro-preview:countTokens", true },
        { "Gemini client on an OpenAI upstream", "/v1beta/models/gpt-4o-mini:generateContent", true },
        { "Chat passthrough", "/v1/chat/completions|gpt-4o-mini", false },
        { "Chat on a Gemini upstream", "/v1/chat/completions|gemini-3.1-pro-preview", false },
        { "Responses passthrough", "/v1/responses|house-responses", false },
        { "Responses on a Chat upstream", "/v1/responses|gpt-4o-mini", false },
        { "Responses on a Gemini upstream", "/v1/responses|gemini-3.1-pro-preview", false },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task BodyNestedTenThousandLevelsDeep_IsRefusedInTheClientsProtocol_BeforeAnyUpstreamCall(string route, string target, bool google)
    {
        await using var gateway = await GatewayFixture.StartAsync(config =>
            config["Models"]!.AsArray().Add(new JsonObject { ["Name"] = "house-responses", ["Cluster"] = "sim", ["Protocols"] = new JsonArray("OpenAIResponses") }));
        using var client = gateway.CreateClient();
        var path = target.Split('|')[0];
        var body = google
            ? $$"""{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"cachedContent":{{TooDeep}}}"""
            : $$"""{"model":"{{target.Split('|')[1]}}","input":"Hi","messages":[{"role":"user","content":"Hi"}],"metadata":{{TooDeep}}}""";

        var (status, error, _) = await client.PostJsonAsync(path, body);

        Assert.True(status == HttpStatusCode.BadRequest, $"{route}: {(int)status}");
        if (google)
        {
            HttpHelpers.AssertGoogleError(error, 400, "INVALID_ARGUMENT");
        }
        else
        {
            HttpHelpers.AssertOpenAIError(error);
        }

        Assert.Contains("deeper than 64 levels", error!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(gateway.Upstream.Received);
    }
}
