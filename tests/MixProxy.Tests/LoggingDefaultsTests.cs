using System.Net;
using System.Text.Json;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// The gateway started as shipped (<c>dotnet mixproxy.dll</c>, with the <c>appsettings.json</c> beside it, as in the
/// image) logs its start and its own events, not a line per request; JSON lines for log collectors are one setting.
/// </summary>
public sealed class LoggingDefaultsTests
{
    private const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""";
    private const string GeminiChat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";

    [Fact]
    public async Task ShippedDefaults_FiftyRequests_WriteNoLinePerRequest()
    {
        await using var fixture = await GatewayFixture.StartAsync();
        await using var gateway = await StartAsync(fixture);
        var before = Lines(gateway.Output).Count;

        using var client = Client(gateway);
        for (var i = 0; i < 50; i++)
        {
            var (status, _, _) = await client.PostJsonAsync("/v1/chat/completions", i % 2 == 0 ? Chat : GeminiChat);
            Assert.Equal(HttpStatusCode.OK, status);
        }

        // ASP.NET's and YARP's per-request Information lines ("Executing endpoint", "Proxying to") are held back.
        await Task.Delay(200, TestContext.Current.CancellationToken); // the console logger writes on its own thread
        var output = Lines(gateway.Output);
        Assert.True(output.Count - before < 5, "lines written for 50 requests:\n" + string.Join('\n', output.Skip(before)));
        Assert.DoesNotContain(output, line => line.Contains("Proxying to", StringComparison.Ordinal) || line.Contains("Executing endpoint", StringComparison.Ordinal));

        // What it logs at start-up still comes: where it listens.
        Assert.Contains(output, line => line.Contains("Now listening on: " + gateway.BaseAddress.ToString().TrimEnd('/'), StringComparison.Ordinal));
    }

    [Fact]
    public async Task JsonFormatterSetting_EveryLineIsAJsonObjectWithItsEventId()
    {
        await using var fixture = await GatewayFixture.StartAsync();
        await using var gateway = await StartAsync(fixture, "--Logging:Console:FormatterName=json");
        using var client = Client(gateway);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);

        var lines = Lines(gateway.Output);
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            Assert.True(json.RootElement.TryGetProperty("EventId", out _), line);
            Assert.True(json.RootElement.TryGetProperty("LogLevel", out _), line);
        }

        Assert.Contains(lines, line => line.Contains("Now listening on", StringComparison.Ordinal));
    }

    private static Task<GatewayProcess> StartAsync(GatewayFixture fixture, params string[] args) =>
        GatewayProcess.StartAsync(fixture.ConfigPath, new Dictionary<string, string> { ["TEST_UPSTREAM_KEY"] = GatewayFixture.UpstreamSecret }, args);

    private static HttpClient Client(GatewayProcess gateway)
    {
        var client = new HttpClient { BaseAddress = gateway.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFixture.ClientKey);
        return client;
    }

    private static List<string> Lines(string output) => [.. output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0)];
}
