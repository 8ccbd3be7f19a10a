using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>Editing the config file while the gateway runs: good edits apply, bad ones are refused, requests in flight are undisturbed.</summary>
public sealed class ConfigReloadTests
{
    private const string NewModelChat = """{"model":"gemini-new","messages":[{"role":"user","content":"Hi"}]}""";

    private static JsonObject WithNewModel(GatewayFixture gateway)
    {
        var config = TestConfig.Default(gateway.SimulatorAddress);
        config["Models"]!.AsArray().Add(new JsonObject { ["Name"] = "gemini-new", ["Cluster"] = "sim", ["Protocols"] = new JsonArray("Gemini") });
        return config;
    }

    private static async Task<HttpStatusCode> WaitForStatusAsync(HttpClient client, string json, HttpStatusCode wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpStatusCode status;
        do
        {
            (status, _, _) = await client.PostJsonAsync("/v1/chat/completions", json);
            if (status == wanted)
            {
                break;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        while (DateTime.UtcNow < deadline);
        return status;
    }

    [Fact]
    public async Task ValidEdit_AddsAModel_WithoutRestart()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostJsonAsync("/v1/chat/completions", NewModelChat)).Status);

        await gateway.WriteConfigAsync(WithNewModel(gateway));

        Assert.Equal(HttpStatusCode.OK, await WaitForStatusAsync(client, NewModelChat, HttpStatusCode.OK));
        using var ready = await client.GetAsync("/healthz/ready", TestContext.Current.CancellationToken);
        Assert.Contains("generation 2", await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("broken-json")]
    [InlineData("unknown-cluster")]
    [InlineData("invalid-value")]
    [InlineData("null-entry")]
    [InlineData("deleted")]
    public async Task BrokenEdit_IsRejected_AndTheLastGoodConfigKeepsServing(string breakage)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        switch (breakage)
        {
            case "broken-json":
                await File.WriteAllTextAsync(gateway.ConfigPath, "{ \"ReverseProxy\": ", TestContext.Current.CancellationToken);
                break;
            case "unknown-cluster":
                var unknown = WithNewModel(gateway);
                unknown["Models"]![3]!["Cluster"] = "nowhere";
                await gateway.WriteConfigAsync(unknown);
                break;
            case "invalid-value":
                var invalid = WithNewModel(gateway);
                invalid["ReverseProxy"]!["Clusters"]!["sim"]!["LoadBalancingPolicy"] = "Nope";
                await gateway.WriteConfigAsync(invalid);
                break;
            case "null-entry":
                var withNull = WithNewModel(gateway);
                withNull["Models"]!.AsArray().Add(null);
                await gateway.WriteConfigAsync(withNull);
                break;
            default:
                File.Delete(gateway.ConfigPath);
                break;
        }

        // Give the watcher (100 ms poll in tests) several chances to (wrongly) apply the edit.
        await Task.Delay(600, TestContext.Current.CancellationToken);

        var (status, _, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostJsonAsync("/v1/chat/completions", NewModelChat)).Status);
        using var ready = await client.GetAsync("/healthz/ready", TestContext.Current.CancellationToken);
        Assert.Contains("generation 1", await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

        // Fixing the file afterwards applies as usual.
        await gateway.WriteConfigAsync(WithNewModel(gateway));
        Assert.Equal(HttpStatusCode.OK, await WaitForStatusAsync(client, NewModelChat, HttpStatusCode.OK));
    }

    [Fact]
    public async Task Reload_DuringAStream_DoesNotDisturbTheRequestInFlight()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        var resume = new TaskCompletionSource();
        gateway.Upstream.Enqueue(new ScriptedReply(Events:
        [
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"before "}]}}]}""",
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"after"}]},"finishReason":"STOP"}]}""",
        ])
        { BeforeEvent = i => i == 0 ? Task.CompletedTask : resume.Task });

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""", System.Text.Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var first = await reader.ReadLineAsync(TestContext.Current.CancellationToken);
        Assert.Contains("before", first, StringComparison.Ordinal);

        // Remove the very model this stream uses; the stream must still finish normally.
        var config = TestConfig.Default(gateway.SimulatorAddress);
        config["Models"]!.AsArray().RemoveAt(0);
        await gateway.WriteConfigAsync(config);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"x"}]}""")).Status != HttpStatusCode.NotFound && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        resume.SetResult();
        var rest = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.Contains("after", rest, StringComparison.Ordinal);
        Assert.Contains("\"finish_reason\":\"stop\"", rest, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);
    }
}
