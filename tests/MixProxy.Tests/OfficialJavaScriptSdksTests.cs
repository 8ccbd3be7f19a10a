using System.Diagnostics;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// The official <c>openai</c> and <c>@google/genai</c> npm SDKs, configured as a new user would (base URL and key,
/// nothing else), run plain and streaming calls against the gateway — Google's SDK also against a model served by an
/// OpenAI-compatible upstream, with function calling streamed and not — and the <c>openai</c> SDK's Responses API
/// client on a Gemini 3 model and an OpenAI one. <c>./test.sh</c> installs them.
/// </summary>
public sealed class OfficialJavaScriptSdksTests
{
    [Fact]
    public async Task OpenAIAndGoogleGenAISdks_WorkUnchangedAgainstTheGateway()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        await RunSmokeAsync(gateway);
    }

    /// <summary>
    /// The same calls when the models have two destinations and the preferred one is down: every request fails there
    /// first and is retried on the other, and the SDKs cannot tell.
    /// </summary>
    [Fact]
    public async Task OpenAIAndGoogleGenAISdks_SeeNoDifference_WhenTheirRequestsAreRetriedOnAnotherDestination()
    {
        await using var pool = await UpstreamPool.StartAsync(["down", "up"], down: ["down"]);
        var cluster = pool.Cluster(
            new System.Text.Json.Nodes.JsonObject { ["Cooldown"] = new System.Text.Json.Nodes.JsonObject { ["FailureThreshold"] = 100 } },
            name => new System.Text.Json.Nodes.JsonObject { ["MixProxy.Priority"] = name == "down" ? "0" : "1" });
        await using var gateway = await GatewayFixture.StartAsync(
            config =>
            {
                config["ReverseProxy"]!["Clusters"]!["pool"] = cluster;
                foreach (var model in config["Models"]!.AsArray())
                {
                    model!["Cluster"] = "pool";
                }
            },
            environment: pool.Environment);

        await RunSmokeAsync(gateway);
        Assert.True(pool["up"].Calls >= 10, "every call went to the healthy destination");
        Assert.Contains(gateway.Logs.Lines, line => line.Contains("attempt 1 on pool/down failed (unreachable)", StringComparison.Ordinal));
    }

    /// <summary>
    /// The <c>openai</c> SDK's Responses API client (<c>responses.mjs</c>): plain and streamed answers, a tool loop
    /// chained by <c>previous_response_id</c>, sent back whole, and sent back as the bare function call, structured
    /// output, chaining, retrieve and delete, and a refused request — on a Gemini 3 model, whose upstream refuses a
    /// tool loop that lost the call's thought signature, and on a model served by Chat Completions.
    /// </summary>
    [Theory]
    [InlineData("gemini-3.1-pro-preview")]
    [InlineData("gpt-4o-mini")]
    public async Task OpenAISdkResponsesApi_WorksUnchangedAgainstTheGateway(string model)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        var report = await RunNodeAsync(gateway, "responses.mjs", model);
        Assert.Contains("10 passed, 0 failed", report, StringComparison.Ordinal);
    }

    private static async Task RunSmokeAsync(GatewayFixture gateway)
    {
        var report = await RunNodeAsync(gateway, "smoke.mjs", "gemini-3.1-pro-preview");
        Assert.Contains("10 passed, 0 failed", report, StringComparison.Ordinal);
    }

    /// <summary>Runs one of the SDK scripts against the gateway and returns what it printed, once it has exited cleanly.</summary>
    private static async Task<string> RunNodeAsync(GatewayFixture gateway, string script, string model)
    {
        var smoke = TestConfig.RepoFile("tests/sdk-smoke");
        Assert.True(Directory.Exists(Path.Combine(smoke, "node_modules")), "The SDKs are not installed: run ./test.sh (it runs npm ci in tests/sdk-smoke).");

        var start = new ProcessStartInfo("node", script)
        {
            WorkingDirectory = smoke,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["MIXPROXY_BASE_URL"] = gateway.BaseAddress.ToString().TrimEnd('/'),
                ["MIXPROXY_KEY"] = GatewayFixture.ClientKey,
                ["MIXPROXY_MODEL"] = model,
            },
        };
        using var node = Process.Start(start)!;
        var output = node.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = node.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await node.WaitForExitAsync(timeout.Token);

        var report = await output + await errors;
        Assert.True(node.ExitCode == 0, report);
        return report;
    }
}
