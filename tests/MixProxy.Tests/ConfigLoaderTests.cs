using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Configuration;
using MixProxy.Tests.Infrastructure;
using MixProxy.Translation.Protocols;

namespace MixProxy.Tests;

/// <summary>Start-up validation of the config file: every problem named at once, and the shipped files valid.</summary>
public sealed class ConfigLoaderTests
{
    private static async Task<Exception> StartWithAsync(Action<JsonObject> breakIt)
    {
        var directory = Directory.CreateTempSubdirectory("mixproxy-config-");
        try
        {
            var config = TestConfig.Default("http://127.0.0.1:9");
            breakIt(config);
            var path = Path.Combine(directory.FullName, "proxy.json");
            await File.WriteAllTextAsync(path, config.ToJsonString(), TestContext.Current.CancellationToken);
            return await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.BuildAsync(new GatewayHostSettings { ConfigPath = path, Urls = "http://127.0.0.1:0", Environment = _ => null }, TestContext.Current.CancellationToken));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Build_InvalidConfig_FailsNamingEveryProblem()
    {
        var error = await StartWithAsync(config =>
        {
            config["Models"]![0]!["Cluster"] = "nowhere";
            config["Keys"]![0]!["Hash"] = "plaintext-key";
            config["ReverseProxy"]!["Routes"]!["openai-chat"]!["Metadata"]!["MixProxy.Api"] = "Chat";
            config["Models"]![1]!["MaxTopLogprobs"] = 21;
        });

        Assert.Contains("unknown cluster 'nowhere'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Hash must be 'sha256:'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Metadata 'MixProxy.Api' must be one of", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxTopLogprobs must be between 0 and 20", error.Message, StringComparison.Ordinal);
        Assert.Contains("environment variable 'TEST_UPSTREAM_KEY'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_MissingFile_FailsWithThePath()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHost.BuildAsync(new GatewayHostSettings { ConfigPath = "/nonexistent/proxy.json", Urls = "http://127.0.0.1:0" }, TestContext.Current.CancellationToken));

        Assert.Contains("/nonexistent/proxy.json", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("config/proxy.json")]
    [InlineData("config/demo.json")]
    [InlineData("config/examples/several-upstreams.json")]
    public async Task ShippedConfigFiles_AreValid(string file)
    {
        var loader = new GatewayConfigLoader(new PermissiveValidator(), ProtocolRegistry.Default, _ => "secret-from-env");

        var snapshot = await loader.ParseAsync(await File.ReadAllBytesAsync(TestConfig.RepoFile(file), TestContext.Current.CancellationToken), 1);

        Assert.NotNull(snapshot.Models.Resolve("gemini-3.1-pro-preview"));
        Assert.All(snapshot.Clusters, c => Assert.Equal(GatewayConfigLoader.DefaultActivityTimeout, c.HttpRequest?.ActivityTimeout ?? GatewayConfigLoader.DefaultActivityTimeout));
    }

    [Fact]
    public async Task Parse_ClusterWithoutActivityTimeout_GetsTheLongLlmDefault()
    {
        var loader = new GatewayConfigLoader(new PermissiveValidator(), ProtocolRegistry.Default, _ => "secret");
        var config = TestConfig.Default("http://127.0.0.1:9");

        var snapshot = await loader.ParseAsync(Encoding.UTF8.GetBytes(config.ToJsonString()), 1);

        Assert.Equal(TimeSpan.FromMinutes(10), snapshot.Clusters.Single(c => c.ClusterId == "sim").HttpRequest!.ActivityTimeout);
    }

    [Fact]
    public async Task Build_BadDestinationsResilienceAndFallbacks_FailsNamingEveryProblem()
    {
        var error = await StartWithAsync(config =>
        {
            var sim = config["ReverseProxy"]!["Clusters"]!["sim"]!.AsObject();
            sim["Destinations"]!["d1"]!["Metadata"] = new JsonObject { ["MixProxy.Weight"] = "0", ["MixProxy.Priority"] = "first", ["MixProxy.QuotaGroup"] = "project one" };
            sim["Resilience"] = new JsonObject
            {
                ["Retries"] = new JsonObject { ["Count"] = 11 },
                ["Cooldown"] = new JsonObject { ["Quota"] = "00:01:00", ["MaxQuota"] = "00:00:10" },
                ["Timeouts"] = new JsonObject { ["FirstByte"] = "00:02:00", ["Total"] = "00:01:00", ["Idle"] = "00:05:00" },
            };
            sim["HttpRequest"] = new JsonObject { ["ActivityTimeout"] = "00:05:00" };
            config["Models"]![0]!["Fallbacks"] = new JsonArray("gpt-*", "gemini-3.1-pro-preview", "alias-flash", "alias-flash");
        });

        Assert.Contains("Metadata 'MixProxy.Weight' must be a whole number from 1 to 1000", error.Message, StringComparison.Ordinal);
        Assert.Contains("Metadata 'MixProxy.Priority' must be a whole number from 0 to 100", error.Message, StringComparison.Ordinal);
        Assert.Contains("Metadata 'MixProxy.QuotaGroup' must be 1 to 100 letters", error.Message, StringComparison.Ordinal);
        Assert.Contains("Resilience.Retries.Count must be between 0 and 10", error.Message, StringComparison.Ordinal);
        Assert.Contains("each maximum must be at least its starting cooldown", error.Message, StringComparison.Ordinal);
        Assert.Contains("FirstByte cannot be longer than Total", error.Message, StringComparison.Ordinal);
        Assert.Contains("set the idle timeout once", error.Message, StringComparison.Ordinal);
        Assert.Contains("fallback 'gpt-*' is not an exact model name", error.Message, StringComparison.Ordinal);
        Assert.Contains("Fallbacks lists 'gemini-3.1-pro-preview' twice or names the model itself", error.Message, StringComparison.Ordinal);
        Assert.Contains("Fallbacks lists 'alias-flash' twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_MisspelledResilienceSetting_IsRefusedRatherThanIgnored()
    {
        var error = await StartWithAsync(config => config["ReverseProxy"]!["Clusters"]!["sim"]!["Resilience"] = new JsonObject { ["Retries"] = new JsonObject { ["Cuont"] = 2 } });

        Assert.Contains("Cluster 'sim'", error.Message, StringComparison.Ordinal);
        Assert.Contains("Cuont", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parse_DestinationsTakeTheirOwnKeyOrTheirClusters_AndTheConnectTimeoutReachesTheHttpClient()
    {
        var loader = new GatewayConfigLoader(new PermissiveValidator(), ProtocolRegistry.Default, name => "secret-of-" + name);
        var config = TestConfig.Default("http://127.0.0.1:9");
        var sim = config["ReverseProxy"]!["Clusters"]!["sim"]!.AsObject();
        sim["Destinations"]!["d2"] = new JsonObject { ["Address"] = "http://127.0.0.1:10", ["Metadata"] = new JsonObject { ["MixProxy.CredentialEnv"] = "SECOND_KEY", ["MixProxy.Priority"] = "1", ["MixProxy.Weight"] = "5" } };
        sim["Resilience"] = new JsonObject { ["Timeouts"] = new JsonObject { ["Connect"] = "00:00:03", ["Idle"] = "00:02:00" } };

        var snapshot = await loader.ParseAsync(Encoding.UTF8.GetBytes(config.ToJsonString()), 1);

        var cluster = snapshot.Upstreams["sim"];
        Assert.Equal(["d1", "d2"], cluster.Destinations.Select(d => d.Id));
        Assert.Equal("secret-of-TEST_UPSTREAM_KEY", cluster.Find("d1")!.Credential.Secret);
        Assert.Equal("secret-of-SECOND_KEY", cluster.Find("d2")!.Credential.Secret);
        Assert.Equal((1, 5), (cluster.Find("d2")!.Priority, cluster.Find("d2")!.Weight));
        var yarpCluster = snapshot.Clusters.Single(c => c.ClusterId == "sim");
        Assert.Equal("00:00:03", yarpCluster.Metadata!["MixProxy.ConnectTimeout"]);
        Assert.Equal(TimeSpan.FromMinutes(2), yarpCluster.HttpRequest!.ActivityTimeout);
    }

    /// <summary>Stands in for YARP's validator where only MixProxy's own rules are under test.</summary>
    private sealed class PermissiveValidator : Yarp.ReverseProxy.Configuration.IConfigValidator
    {
        public ValueTask<IList<Exception>> ValidateRouteAsync(Yarp.ReverseProxy.Configuration.RouteConfig route) => new([]);

        public ValueTask<IList<Exception>> ValidateClusterAsync(Yarp.ReverseProxy.Configuration.ClusterConfig cluster) => new([]);
    }
}
