using System.Net;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// An upstream that reflects the credential it was given (in an error message, in headers, in a cookie) must not hand
/// the gateway's key to the client: the key is redacted from every error body, and headers that hold it, are named
/// like a credential, or set cookies are not passed on (issue 15, item 11).
/// </summary>
public sealed class CredentialEchoTests
{
    private static readonly Dictionary<string, string> EchoingHeaders = new()
    {
        ["Set-Cookie"] = "session=abc; Path=/",
        ["x-echo-auth"] = "Bearer " + GatewayFixture.UpstreamSecret,
        ["x-goog-api-key"] = GatewayFixture.UpstreamSecret,
        ["x-request-id"] = "req-42",
    };

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""", "translated")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""", "passthrough")]
    [InlineData("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""", "passthrough")]
    [InlineData("/v1/responses", """{"model":"gemini-3.1-pro-preview","input":"Hi"}""", "translated")]
    public async Task ErrorQuotingTheGatewaysKey_ReachesTheClientRedacted_WithoutEchoedHeadersOrCookies(string path, string json, string route)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        var message = $"Incorrect request: key {GatewayFixture.UpstreamSecret} may not use this model.";
        var body = path.Contains("chat", StringComparison.Ordinal) && json.Contains("gpt", StringComparison.Ordinal)
            ? $$$"""{"error":{"message":"{{{message}}}","type":"invalid_request_error","param":null,"code":null}}"""
            : $$$"""{"error":{"code":400,"message":"{{{message}}}","status":"INVALID_ARGUMENT"}}""";
        gateway.Upstream.Enqueue(new ScriptedReply(Status: 400, Body: body) { Headers = EchoingHeaders });

        var (status, _, response) = await client.PostJsonAsync(path, json);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.DoesNotContain(GatewayFixture.UpstreamSecret, text, StringComparison.Ordinal);
        Assert.Contains("[redacted]", text, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Set-Cookie"), route);
        Assert.False(response.Headers.Contains("x-echo-auth"));
        Assert.False(response.Headers.Contains("x-goog-api-key"));
        Assert.DoesNotContain(response.Headers.Concat(response.Content.Headers), header => header.Value.Any(v => v.Contains(GatewayFixture.UpstreamSecret, StringComparison.Ordinal)));
        Assert.Equal("req-42", response.Headers.GetValues("x-request-id").Single());
    }

    [Fact]
    public async Task SuccessfulAnswer_DoesNotPassOnTheUpstreamsCookies()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Body: """{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}""") { Headers = EchoingHeaders });

        var (status, _, response) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.False(response.Headers.Contains("x-echo-auth"));
    }
}
