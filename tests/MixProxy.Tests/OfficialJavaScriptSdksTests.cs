using System.Diagnostics;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// The official <c>openai</c> and <c>@google/genai</c> npm SDKs, configured as a new user would (base URL and key,
/// nothing else), run plain and streaming calls against the gateway — Google's SDK also against a model served by an
/// OpenAI-compatible upstream, with function calling streamed and not. <c>./test.sh</c> installs them.
/// </summary>
public sealed class OfficialJavaScriptSdksTests
{
    [Fact]
    public async Task OpenAIAndGoogleGenAISdks_WorkUnchangedAgainstTheGateway()
    {
        var smoke = TestConfig.RepoFile("tests/sdk-smoke");
        Assert.True(Directory.Exists(Path.Combine(smoke, "node_modules")), "The SDKs are not installed: run ./test.sh (it runs npm ci in tests/sdk-smoke).");
        await using var gateway = await GatewayFixture.StartAsync();

        var start = new ProcessStartInfo("node", "smoke.mjs")
        {
            WorkingDirectory = smoke,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["MIXPROXY_BASE_URL"] = gateway.BaseAddress.ToString().TrimEnd('/'),
                ["MIXPROXY_KEY"] = GatewayFixture.ClientKey,
                ["MIXPROXY_MODEL"] = "gemini-3.1-pro-preview",
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
        Assert.Contains("10 passed, 0 failed", report, StringComparison.Ordinal);
    }
}
