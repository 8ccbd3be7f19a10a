using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>What clients see when the upstream fails: its error restated in their protocol, or passed through when it already is.</summary>
public sealed class UpstreamErrorTests
{
    private const string Chat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";

    [Fact]
    public async Task ChatCompletions_GeminiRateLimit_Becomes429WithRetryAfter()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, response) = await client.PostJsonAsync("/v1/chat/completions", Chat, ("x-simulator-error", "429"));

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        HttpHelpers.AssertOpenAIError(body, "rate_limit_exceeded");
        Assert.Equal("rate_limit_error", body!["error"]!["type"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
    }

    [Theory]
    [InlineData("503", HttpStatusCode.ServiceUnavailable, "service_unavailable")]
    [InlineData("404", HttpStatusCode.NotFound, "model_not_found")]
    [InlineData("500", HttpStatusCode.InternalServerError, null)]
    public async Task ChatCompletions_GeminiError_MapsToOpenAIStatusAndShape(string upstreamStatus, HttpStatusCode expected, string? code)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", Chat, ("x-simulator-error", upstreamStatus));

        Assert.Equal(expected, status);
        HttpHelpers.AssertOpenAIError(body, code);
    }

    [Fact]
    public async Task ChatCompletions_UpstreamRejectsGatewayCredential_Returns502NotTheClientsFault()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        gateway.UpstreamOptions.RequiredKey = "rotated-secret";
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        HttpHelpers.AssertOpenAIError(body, "upstream_auth_failed");
    }

    [Fact]
    public async Task GenerateContent_GeminiError_PassesThroughInGoogleShape()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertGoogleError(body, 400, "INVALID_ARGUMENT");
    }

    /// <summary>
    /// Passed through, the upstream's refusal of the gateway's key would tell the client that its own key is wrong. (The
    /// destination is then out of rotation until its key changes: the next request gets a 503 without an upstream call.)
    /// </summary>
    [Theory]
    [InlineData("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""")]
    public async Task Passthrough_UpstreamRejectsGatewayCredential_Returns502InTheClientsProtocol_NotTheClientsFault(string path, string request)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        gateway.UpstreamOptions.RequiredKey = "rotated-secret";
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync(path, request);
        var (next, _, _) = await client.PostJsonAsync(path, request);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        if (path.StartsWith("/v1beta", StringComparison.Ordinal))
        {
            HttpHelpers.AssertGoogleError(body, 502, "UNAVAILABLE");
            Assert.DoesNotContain("API key not valid", body!.ToJsonString(), StringComparison.Ordinal);
        }
        else
        {
            HttpHelpers.AssertOpenAIError(body, "upstream_auth_failed");
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, next);
        Assert.Single(gateway.Upstream.Received);
    }

    /// <summary>A passthrough does not relay a load balancer's HTML page: each client reads the status in its own protocol.</summary>
    [Theory]
    [InlineData("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""")]
    public async Task PassthroughUpstreamAnswersWithAnHtmlErrorPage_TheClientGetsTheStatusInItsProtocol(string path, string request)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        gateway.Upstream.Enqueue(new MixProxy.Simulator.ScriptedReply(502, "<html><body><h1>502 Bad Gateway</h1>Bearer upstream-secret-for-tests</body></html>") { Headers = new Dictionary<string, string> { ["Content-Type"] = "text/html" } });

        var (status, body, response) = await gateway.CreateClient().PostJsonAsync(path, request);

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal("application/json", response.ContentType()?.MediaType);
        if (path.StartsWith("/v1beta", StringComparison.Ordinal))
        {
            HttpHelpers.AssertGoogleError(body, 502, "UNAVAILABLE");
        }
        else
        {
            HttpHelpers.AssertOpenAIError(body);
        }

        Assert.DoesNotContain(GatewayFixture.UpstreamSecret, body!.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>A body over the limit is refused as too large, in Google's shape, before the upstream call, whether or not it declares its length.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GeminiPassthrough_BodyOverTheLimit_Is413SayingSo(bool declaresItsLength)
    {
        await using var gateway = await GatewayFixture.StartAsync(args: ["--Kestrel:Limits:MaxRequestBodySize=2000"]);
        var text = new string('a', 4000);
        var json = System.Text.Encoding.UTF8.GetBytes($$"""{"contents":[{"parts":[{"text":"{{text}}"}]}]}""");
        HttpContent content = declaresItsLength ? new ByteArrayContent(json) : new StreamContent(new MemoryStream(json));
        content.Headers.ContentType = new("application/json");
        if (!declaresItsLength)
        {
            content.Headers.ContentLength = null; // sent chunked: the limit is only met while the body is copied
        }

        using var response = await gateway.CreateClient().PostAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", content, TestContext.Current.CancellationToken);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        HttpHelpers.AssertGoogleError(body, 413, "INVALID_ARGUMENT");
        Assert.Contains("larger than the 2000 bytes", body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task UpstreamUnreachable_Returns502InTheClientsProtocol()
    {
        await using var gateway = await GatewayFixture.StartAsync(config =>
            config["ReverseProxy"]!["Clusters"]!["sim"]!["Destinations"]!["d1"]!["Address"] = "http://127.0.0.1:9"); // discard port: nothing listens
        using var client = gateway.CreateClient();

        var (chatStatus, chatBody, _) = await client.PostJsonAsync("/v1/chat/completions", Chat);
        var (geminiStatus, geminiBody, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""");

        Assert.Equal(HttpStatusCode.BadGateway, chatStatus);
        HttpHelpers.AssertOpenAIError(chatBody);
        Assert.Equal(HttpStatusCode.BadGateway, geminiStatus);
        HttpHelpers.AssertGoogleError(geminiBody, 502, "UNAVAILABLE");
    }

    [Fact]
    public async Task ChatCompletionsStream_UpstreamAnswersWithoutSse_Returns502InsteadOfAnEmptyStream()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        gateway.Upstream.Enqueue(new MixProxy.Simulator.ScriptedReply(Body: """[{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}]"""));
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        HttpHelpers.AssertOpenAIError(body, "bad_upstream_response");
    }

    [Fact]
    public async Task StreamGenerateContent_WithoutAltSse_PassesGooglesJsonArrayThrough()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, _, response) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""");
        var array = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!.AsArray();

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(array.Count > 1);
        Assert.Equal("STOP", array[^1]!["candidates"]![0]!["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task StreamGenerateContent_AltSse_PassesEventsThroughUnchanged()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, _, response) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse", """{"contents":[{"parts":[{"text":"Hi"}]}]}""");
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/event-stream", response.ContentType()?.MediaType);
        Assert.Contains("\r\n\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.Equal("?alt=sse", Assert.Single(gateway.Upstream.Received).Query);
    }

    [Fact]
    public async Task CountTokens_PassesThrough()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/alias-flash:countTokens", """{"contents":[{"parts":[{"text":"Hi"}]}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body!["totalTokens"]!.GetValue<int>() > 0);
        Assert.Null(body["output"]);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:countTokens", Assert.Single(gateway.Upstream.Received).Path);
    }

    [Fact]
    public async Task ChatCompletions_UpstreamBodyBreaksOff_Is502BadUpstream_NotAGatewayBug()
    {
        // A raw upstream that promises 1,000 bytes, sends 20 and hangs up.
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var upstream = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
            var stream = socket.GetStream();
            var buffer = new byte[65536];
            var head = string.Empty;
            while (!head.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken);
                if (read == 0)
                {
                    return;
                }

                head += System.Text.Encoding.ASCII.GetString(buffer, 0, read);
            }

            var reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"candidates\":[{\"con";
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(reply), TestContext.Current.CancellationToken);
        }, TestContext.Current.CancellationToken);
        await using var gateway = await GatewayFixture.StartAsync(config =>
            config["ReverseProxy"]!["Clusters"]!["sim"]!["Destinations"]!["d1"]!["Address"] = $"http://127.0.0.1:{port}");
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", Chat);
        await upstream;

        Assert.Equal(HttpStatusCode.BadGateway, status);
        HttpHelpers.AssertOpenAIError(body, "bad_upstream_response");
        Assert.DoesNotContain(gateway.Logs.Lines, line => line.StartsWith("Error", StringComparison.Ordinal));
    }
}
