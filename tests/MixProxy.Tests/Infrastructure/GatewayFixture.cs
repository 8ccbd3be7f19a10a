using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Builder;
using MixProxy.Simulator;
using MixProxy.Translation.Protocols;

namespace MixProxy.Tests.Infrastructure;

/// <summary>
/// A real gateway and a real simulator on loopback ports, wired by a config file in a temp folder that a test
/// may rewrite to exercise live reload. Every request crosses real sockets, as in production.
/// </summary>
public sealed class GatewayFixture : IAsyncDisposable
{
    public const string ClientKey = "test-client-key";
    public const string RestrictedKey = "test-restricted-key";
    public const string UpstreamSecret = "upstream-secret-for-tests";

    private WebApplication? _gateway;
    private WebApplication? _simulator;

    private GatewayFixture(string directory) => Directory = directory;

    public string Directory { get; }

    public string ConfigPath => Path.Combine(Directory, "proxy.json");

    public SimulatorState Upstream { get; } = new();

    /// <summary>Every line the gateway logged, at every level.</summary>
    public CapturedLogs Logs { get; } = new();

    public SimulatorOptions UpstreamOptions { get; } = new() { ChunkInterval = TimeSpan.FromMilliseconds(5), RequiredKey = UpstreamSecret };

    public string SimulatorAddress => SimulatorApp.Address(_simulator!);

    public Uri BaseAddress => new(_gateway!.Urls.First());

    /// <summary>The in-process gateway's services, for tests that drive its lifecycle (a drain, say) directly.</summary>
    public IServiceProvider Services => _gateway!.Services;

    public HttpClient CreateClient(string? key = ClientKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        }

        return client;
    }

    /// <summary>
    /// Starts a simulator and a gateway; <paramref name="configure"/> may change the default config before the gateway
    /// reads it, and <paramref name="environment"/> adds variables the gateway reads credentials from (besides
    /// <c>TEST_UPSTREAM_KEY</c>).
    /// </summary>
    public static async Task<GatewayFixture> StartAsync(Action<JsonObject>? configure = null, string? redis = null, string[]? args = null, ProtocolRegistry? protocols = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "mixproxy-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var fixture = new GatewayFixture(directory);
        fixture._simulator = SimulatorApp.Build("http://127.0.0.1:0", fixture.UpstreamOptions, fixture.Upstream);
        await fixture._simulator.StartAsync();

        var config = TestConfig.Default(fixture.SimulatorAddress);
        configure?.Invoke(config);
        await fixture.WriteConfigAsync(config);

        try
        {
            fixture._gateway = await BuildGatewayAsync(fixture, redis, args, protocols ?? ProtocolRegistry.Default, environment);
            await fixture._gateway.StartAsync();
        }
        catch
        {
            await fixture.DisposeAsync();
            throw;
        }

        return fixture;
    }

    private static Task<WebApplication> BuildGatewayAsync(GatewayFixture fixture, string? redis, string[]? args, ProtocolRegistry protocols, IReadOnlyDictionary<string, string>? environment) =>
        GatewayHost.BuildAsync(new GatewayHostSettings
        {
            ConfigPath = fixture.ConfigPath,
            Urls = "http://127.0.0.1:0",
            Args = [.. redis is null ? [] : new[] { $"--MixProxy:RateLimiting:Redis={redis}" }, .. args ?? []],
            ConfigPollInterval = TimeSpan.FromMilliseconds(100),
            Protocols = protocols,
            Environment = name => name == "TEST_UPSTREAM_KEY" ? UpstreamSecret : environment?.GetValueOrDefault(name),
            ConfigureLogging = logging =>
            {
                logging.SetMinimumLevel(LogLevel.Debug);
                logging.AddProvider(fixture.Logs);
            },
        });

    public Task WriteConfigAsync(JsonNode config) => File.WriteAllTextAsync(ConfigPath, config.ToJsonString());

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }

        if (_simulator is not null)
        {
            await _simulator.StopAsync();
            await _simulator.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
