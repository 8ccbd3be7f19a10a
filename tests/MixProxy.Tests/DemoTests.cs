using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>The README's first command: the demo starts on loopback in front of the bundled simulator and prints a key that works.</summary>
public sealed partial class DemoTests
{
    [Fact]
    public async Task Demo_PrintsItsAddressAndKey_AndServesBothProtocolsWithThem()
    {
        var (gatewayPort, simulatorPort) = (LocalMachine.FreePort(), LocalMachine.FreePort());
        var config = JsonNode.Parse(await File.ReadAllTextAsync(TestConfig.RepoFile("config/demo.json"), TestContext.Current.CancellationToken))!;
        foreach (var cluster in config["ReverseProxy"]!["Clusters"]!.AsObject())
        {
            foreach (var destination in cluster.Value!["Destinations"]!.AsObject())
            {
                destination.Value!["Address"] = $"http://127.0.0.1:{simulatorPort}";
            }
        }

        var configPath = Path.Combine(Path.GetTempPath(), $"mixproxy-demo-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(configPath, config.ToJsonString(), TestContext.Current.CancellationToken);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = TestConfig.RepoFile(".") };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "mixproxy-demo.dll"), "--config", configPath, "--urls", $"http://127.0.0.1:{gatewayPort}", "--simulator-urls", $"http://127.0.0.1:{simulatorPort}" })
        {
            start.ArgumentList.Add(arg);
        }

        using var demo = Process.Start(start)!;
        try
        {
            var printed = new System.Text.StringBuilder();
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            limit.CancelAfter(TimeSpan.FromSeconds(30));
            string? key = null;
            while (key is null && await demo.StandardOutput.ReadLineAsync(limit.Token) is { } line)
            {
                printed.AppendLine(line);
                key = DemoKeyLine().Match(line) is { Success: true } m ? m.Groups[1].Value : null;
            }

            Assert.True(key is not null, "The demo printed no key:\n" + printed);
            Assert.Contains($"running on http://127.0.0.1:{gatewayPort}", printed.ToString(), StringComparison.Ordinal);

            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gatewayPort}"), Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
            var (chat, chatBody, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hello"}]}""");
            var (gemini, geminiBody, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}""");

            Assert.Equal(HttpStatusCode.OK, chat);
            Assert.Contains("Hello", chatBody!["choices"]![0]!["message"]!["content"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, gemini);
            Assert.Contains("Hello", geminiBody!["output"]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        finally
        {
            demo.Kill(entireProcessTree: true);
            await demo.WaitForExitAsync(CancellationToken.None);
            File.Delete(configPath);
        }
    }

    [GeneratedRegex(@"Demo API key: (\S+)")]
    private static partial Regex DemoKeyLine();
}
