using System.Text.Json.Nodes;

namespace MixProxy.Tests.Infrastructure;

/// <summary>The config file the end-to-end tests start from: the shipped routes, one simulator cluster, three models, two keys.</summary>
public static class TestConfig
{
    public static JsonObject Default(string simulatorAddress)
    {
        var routes = JsonNode.Parse(File.ReadAllText(RepoFile("config/proxy.json")))!["ReverseProxy"]!["Routes"]!.DeepClone();
        return new JsonObject
        {
            ["ReverseProxy"] = new JsonObject
            {
                ["Routes"] = routes,
                ["Clusters"] = new JsonObject
                {
                    ["sim"] = new JsonObject
                    {
                        ["Destinations"] = new JsonObject { ["d1"] = new JsonObject { ["Address"] = simulatorAddress } },
                        ["Metadata"] = new JsonObject { ["MixProxy.UpstreamAuth"] = "Bearer", ["MixProxy.CredentialEnv"] = "TEST_UPSTREAM_KEY", ["MixProxy.ForwardHeaders"] = "x-simulator-*" },
                    },
                },
            },
            ["Models"] = new JsonArray(
                new JsonObject { ["Name"] = "gemini-3.1-pro-preview", ["Cluster"] = "sim", ["Protocols"] = new JsonArray("Gemini"), ["Thinking"] = new JsonObject { ["Style"] = "Level", ["Levels"] = new JsonArray("low", "high") }, ["Penalties"] = false },
                new JsonObject { ["Name"] = "alias-flash", ["Cluster"] = "sim", ["UpstreamModel"] = "gemini-2.5-flash", ["Protocols"] = new JsonArray("Gemini") },
                new JsonObject { ["Name"] = "gpt-*", ["Cluster"] = "sim", ["Protocols"] = new JsonArray("OpenAI") }),
            ["Keys"] = new JsonArray(
                new JsonObject { ["Name"] = "tests", ["Hash"] = Auth.ApiKeyHash.Compute(GatewayFixture.ClientKey), ["Models"] = new JsonArray("*") },
                new JsonObject { ["Name"] = "restricted", ["Hash"] = Auth.ApiKeyHash.Compute(GatewayFixture.RestrictedKey), ["Models"] = new JsonArray("gpt-*") }),
        };
    }

    public static string RepoFile(string relative)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MixProxy.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory?.FullName ?? throw new InvalidOperationException("MixProxy.sln not found above the test binaries."), relative);
    }
}
