using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// Gemini clients, end to end, on what the provider page tells them to send: its own Gemini example on an upstream that
/// takes only Google's spellings (the simulator playing Google's API with <c>x-simulator-strict-google: 1</c>).
/// </summary>
public sealed class FidelityGeminiClientTests
{
    // The provider page's Gemini example: its search tool in OpenAI's shape, inside a generateContent body.
    private const string ProviderPageExample = """{"contents":[{"role":"user","parts":[{"text":"Hello"}]}],"tools":[{"function":{"name":"web_search"},"type":"function"}]}""";

    private static readonly (string, string) PlayGoogle = ("x-simulator-strict-google", "1");

    [Fact]
    public async Task ProviderPageExample_OnAStrictCluster_GoesUpWithGooglesSearchTool()
    {
        await using var gateway = await GatewayFixture.StartAsync(config => Cluster(config)["Metadata"]!["MixProxy.UpstreamDialect"] = "Strict");
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", ProviderPageExample, PlayGoogle);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(
            """{"contents":[{"role":"user","parts":[{"text":"Hello"}]}],"tools":[{"googleSearch":{}}]}""",
            Assert.Single(gateway.Upstream.Received).Body);
        Assert.NotNull(body?["candidates"]);
    }

    [Fact]
    public async Task ProviderPageExample_OnALenientCluster_GoesUpAsSentAndAGoogleUpstreamRefusesIt()
    {
        // What the issue saw: the default passes the body through, which Google refuses. The simulator plays Google here
        // to show that the strict setting is what the cluster of a Google upstream needs.
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", ProviderPageExample, PlayGoogle);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(ProviderPageExample, Assert.Single(gateway.Upstream.Received).Body);
        Assert.Contains("Unknown name \"function\" at 'tools[0]'", body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StrictCluster_AFunctionInTheProviderSpelling_IsRefusedAtTheGateway_NamingIt()
    {
        await using var gateway = await GatewayFixture.StartAsync(config => Cluster(config)["Metadata"]!["MixProxy.UpstreamDialect"] = "Strict");
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync(
            "/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse",
            """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"tools":[{"type":"function","function":{"name":"get_score","parameters":{"type":"object"}}}]}""",
            PlayGoogle);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertGoogleError(body, 400, "INVALID_ARGUMENT");
        Assert.Contains("tools[0].function", body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task FallbackToAStrictCluster_RewritesForThatAttempt()
    {
        // The model's own cluster (lenient, the Mix backend) is down; its fallback's cluster is Google's: the dialect is
        // the attempt's cluster's, not the model's.
        await using var pool = await UpstreamPool.StartAsync(["mix", "google"], down: ["mix"]);
        await using var gateway = await GatewayFixture.StartAsync(
            config =>
            {
                var clusters = config["ReverseProxy"]!["Clusters"]!.AsObject();
                clusters["mix"] = pool.Cluster(metadata: _ => null);
                clusters["mix"]!["Destinations"]!.AsObject().Remove("google");
                clusters["google"] = pool.Cluster();
                clusters["google"]!["Destinations"]!.AsObject().Remove("mix");
                clusters["google"]!["Metadata"]!["MixProxy.UpstreamDialect"] = "Strict";
                var models = config["Models"]!.AsArray();
                models[0]!["Cluster"] = "mix";
                models[0]!["Fallbacks"] = new JsonArray("gemini-3.1-pro-preview@google");
                models.Add(new JsonObject { ["Name"] = "gemini-3.1-pro-preview@google", ["Cluster"] = "google", ["UpstreamModel"] = "gemini-3.1-pro-preview" });
            },
            environment: pool.Environment);
        using var client = gateway.CreateClient();

        var (status, _, response) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", ProviderPageExample, PlayGoogle);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("google/google", response.Headers.GetValues("x-mixproxy-upstream").Single());
        Assert.Equal(
            """{"contents":[{"role":"user","parts":[{"text":"Hello"}]}],"tools":[{"googleSearch":{}}]}""",
            Assert.Single(pool["google"].State.Received).Body);
    }

    [Fact]
    public async Task UnknownDialect_StopsStartUp_NamingTheSetting()
    {
        var directory = Directory.CreateTempSubdirectory("mixproxy-config-");
        try
        {
            var config = TestConfig.Default("http://127.0.0.1:9");
            Cluster(config)["Metadata"]!["MixProxy.UpstreamDialect"] = "Google";
            var path = Path.Combine(directory.FullName, "proxy.json");
            await File.WriteAllTextAsync(path, config.ToJsonString(), TestContext.Current.CancellationToken);

            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.BuildAsync(new GatewayHostSettings { ConfigPath = path, Urls = "http://127.0.0.1:0", Environment = _ => "set" }, TestContext.Current.CancellationToken));

            Assert.Contains("Cluster 'sim': Metadata 'MixProxy.UpstreamDialect' must be one of Lenient, Strict.", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static JsonNode Cluster(JsonObject config) => config["ReverseProxy"]!["Clusters"]!["sim"]!;
}
