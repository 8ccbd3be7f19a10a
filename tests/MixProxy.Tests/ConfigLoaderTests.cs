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

    /// <summary>Stands in for YARP's validator where only MixProxy's own rules are under test.</summary>
    private sealed class PermissiveValidator : Yarp.ReverseProxy.Configuration.IConfigValidator
    {
        public ValueTask<IList<Exception>> ValidateRouteAsync(Yarp.ReverseProxy.Configuration.RouteConfig route) => new([]);

        public ValueTask<IList<Exception>> ValidateClusterAsync(Yarp.ReverseProxy.Configuration.ClusterConfig cluster) => new([]);
    }
}
