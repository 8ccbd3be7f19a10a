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
    public async Task ClientHeaders_OnlyAllowedOnesReachTheUpstream()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        await client.PostJsonAsync(
            "/v1/chat/completions",
            """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""",
            ("Cookie", "session=secret"),
            ("x-goog-user-project", "someone-elses-billing"),
            ("OpenAI-Organization", "org-1"),
            ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("x-simulator-latency-ms", "0"));

        var headers = Assert.Single(gateway.Upstream.Received).Headers;
        Assert.DoesNotContain(headers.Keys, h => h.StartsWith("x-forwarded", StringComparison.OrdinalIgnoreCase));
        Assert.False(headers.ContainsKey("cookie"));
        Assert.False(headers.ContainsKey("x-goog-user-project"));
        Assert.False(headers.ContainsKey("openai-organization"));
        Assert.True(headers.ContainsKey("traceparent"));
        Assert.True(headers.ContainsKey("x-simulator-latency-ms"), "the cluster's MixProxy.ForwardHeaders lets x-simulator-* through");
    }

    [Theory]
    [InlineData("""{"model":"gemini-2.5-x/../gemini-secret","messages":[{"role":"user","content":"Hi"}]}""")]
    [InlineData("""{"model":"a?b=c","messages":[{"role":"user","content":"Hi"}]}""")]
    public async Task ModelNameThatCouldEscapeTheUpstreamPath_IsRefusedWith400(string json)
    {
        await using var gateway = await GatewayFixture.StartAsync(config => config["Models"]!.AsArray().Add(new System.Text.Json.Nodes.JsonObject { ["Name"] = "*", ["Cluster"] = "sim" }));
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertOpenAIError(body);
        Assert.Empty(gateway.Upstream.Received);
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
    public async Task TranslatedStream_UpstreamFallsSilent_IsCutAtTheActivityTimeout()
    {
        await using var gateway = await GatewayFixture.StartAsync(config =>
            config["ReverseProxy"]!["Clusters"]!["sim"]!["HttpRequest"] = new System.Text.Json.Nodes.JsonObject { ["ActivityTimeout"] = "00:00:00.500" });
        var never = new TaskCompletionSource();
        gateway.Upstream.Enqueue(new MixProxy.Simulator.ScriptedReply(Events:
        [
            """{"responseId":"r","candidates":[{"content":{"parts":[{"text":"first"}]}}]}""",
            """{"responseId":"r","candidates":[{"content":{"parts":[{"text":"never"}]},"finishReason":"STOP"}]}""",
        ])
        { BeforeEvent = i => i == 0 ? Task.CompletedTask : never.Task });
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""", System.Text.Encoding.UTF8, "application/json"),
        };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(10));

        // The upstream never sends its second event: the gateway must give up after 0.5 s of silence, not hold
        // the connection until the client leaves. Either an early end or a broken stream is fine; a hang is not.
        var read = Task.Run(async () =>
        {
            try
            {
                return await reader.ReadToEndAsync(limit.Token);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                return "cut";
            }
        }, TestContext.Current.CancellationToken);

        var text = await read;
        Assert.False(limit.IsCancellationRequested, "the stream was still open after 10 s of upstream silence");
        Assert.DoesNotContain("never", text, StringComparison.Ordinal);
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
