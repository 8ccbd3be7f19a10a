using System.Diagnostics;
using System.Text.Json.Nodes;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// The official <c>@anthropic-ai/sdk</c> npm SDK (<c>anthropic.mjs</c>), configured as a new user would (base URL and
/// key, nothing else): messages plain and streamed, raw events, tool loops, extended thinking, token counting, the key
/// as a Bearer token and in <c>x-api-key</c>, and its error classes for a wrong key, an unknown model and an upstream
/// 429 — on a Gemini 3 model (whose upstream refuses a tool loop that lost the call's thought signature), on a model
/// served by Chat Completions and on one passed through to an Anthropic upstream. <c>./test.sh</c> installs the SDK.
/// </summary>
public sealed class AnthropicJavaScriptSdkTests
{
    [Theory]
    [InlineData(AnthropicSdkTests.Gemini, 12)]
    [InlineData(AnthropicSdkTests.Gpt, 11)]
    [InlineData(AnthropicSdkTests.Claude, 12)]
    public async Task AnthropicSdk_WorksUnchangedAgainstTheGateway(string model, int checks)
    {
        await using var gateway = await AnthropicSdkTests.StartAsync();

        var report = await RunNodeAsync(gateway, "anthropic.mjs", model);

        Assert.Contains($"{checks} passed, 0 failed", report, StringComparison.Ordinal);
        if (model == AnthropicSdkTests.Gemini)
        {
            // Every tool loop brought back the signature Gemini issued for its call (the SDK cannot see them).
            var issued = gateway.Upstream.IssuedThoughtSignatures.ToHashSet();
            var returned = gateway.Upstream.Received
                .Where(r => r.Path.Contains(":generateContent", StringComparison.Ordinal) || r.Path.Contains(":streamGenerateContent", StringComparison.Ordinal))
                .SelectMany(r => JsonNode.Parse(r.Body)!["contents"]!.AsArray())
                .SelectMany(c => c!["parts"]!.AsArray())
                .Where(p => p!["functionCall"] is not null)
                .Select(p => p!["thoughtSignature"]?.GetValue<string>() ?? "(none)")
                .ToList();
            Assert.Equal(3, returned.Count);
            Assert.All(returned, signature => Assert.Contains(signature, issued));
        }
    }

    /// <summary>Runs one of the SDK scripts against the gateway and returns what it printed, once it has exited cleanly.</summary>
    private static async Task<string> RunNodeAsync(GatewayFixture gateway, string script, string model)
    {
        var smoke = TestConfig.RepoFile("tests/sdk-smoke");
        Assert.True(Directory.Exists(Path.Combine(smoke, "node_modules", "@anthropic-ai", "sdk")), "The SDK is not installed: run ./test.sh (it runs npm ci in tests/sdk-smoke).");

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

        // The SDK reads its key, base URL and extra headers from these when they are set; the script must get none of them.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("ANTHROPIC_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

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
