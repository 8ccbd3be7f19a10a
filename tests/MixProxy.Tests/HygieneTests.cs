using System.Net;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>Secrets stay secret, and requests the gateway does not serve still get a clear error in the caller's protocol.</summary>
public sealed class HygieneTests
{
    [Fact]
    public async Task ClientKeyInQuery_IsNeitherForwardedNorLogged_EvenAtDebugLevel()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient(key: null);

        var (status, _, _) = await client.PostJsonAsync($"/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse&key={GatewayFixture.ClientKey}", """{"contents":[{"parts":[{"text":"Hi"}]}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("?alt=sse", Assert.Single(gateway.Upstream.Received).Query);
        Assert.NotEmpty(gateway.Logs.Lines);
        Assert.DoesNotContain(gateway.Logs.Lines, line => line.Contains(GatewayFixture.ClientKey, StringComparison.Ordinal));
        Assert.DoesNotContain(gateway.Logs.Lines, line => line.Contains(GatewayFixture.UpstreamSecret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientHeaders_ForwardingHeadersAreNotAddedUpstream()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""");

        var headers = Assert.Single(gateway.Upstream.Received).Headers;
        Assert.DoesNotContain(headers.Keys, h => h.StartsWith("x-forwarded", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task WrongMethodOrPath_AnswersInTheCallersProtocol()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (getStatus, getBody) = await client.GetJsonAsync("/v1/chat/completions");
        var (postStatus, postBody, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:embedContent", "{}");
        var (openAIStatus, openAIBody, _) = await client.PostJsonAsync("/v1/embeddings", "{}");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, getStatus);
        HttpHelpers.AssertOpenAIError(getBody);
        Assert.Equal(HttpStatusCode.NotFound, postStatus);
        HttpHelpers.AssertGoogleError(postBody, 404, "NOT_FOUND");
        Assert.Equal(HttpStatusCode.NotFound, openAIStatus);
        HttpHelpers.AssertOpenAIError(openAIBody);
    }

    [Fact]
    public async Task UpstreamSilentPastActivityTimeout_Returns504InTheClientsProtocol()
    {
        await using var gateway = await GatewayFixture.StartAsync(config =>
            config["ReverseProxy"]!["Clusters"]!["sim"]!["HttpRequest"] = new System.Text.Json.Nodes.JsonObject { ["ActivityTimeout"] = "00:00:00.500" });
        gateway.UpstreamOptions.FirstByteDelay = TimeSpan.FromSeconds(3);
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        HttpHelpers.AssertOpenAIError(body);
    }
}
