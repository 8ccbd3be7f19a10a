using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using MixProxy.Simulator;

namespace MixProxy.Tests.Infrastructure;

/// <summary>
/// Several simulators, each standing for one destination with its own key (as several API keys or projects of one
/// provider would be), and the config that puts them in one cluster. A destination can also be a closed port: an
/// upstream that is down.
/// </summary>
public sealed class UpstreamPool : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];

    private UpstreamPool()
    {
    }

    /// <summary>The destinations by name, in the order given.</summary>
    public Dictionary<string, Destination> All { get; } = new(StringComparer.Ordinal);

    /// <summary>The credential variables the gateway reads (<c>KEY_&lt;name&gt;</c>), each holding its destination's key.</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public Destination this[string name] => All[name];

    /// <summary>Starts a simulator per name; names listed in <paramref name="down"/> get a closed port instead.</summary>
    public static async Task<UpstreamPool> StartAsync(string[] names, string[]? down = null)
    {
        var pool = new UpstreamPool();
        foreach (var name in names)
        {
            var key = "key-of-" + name;
            pool.Environment["KEY_" + name.ToUpperInvariant()] = key;
            if (down?.Contains(name) == true)
            {
                pool.All[name] = new Destination(name, ClosedPortAddress(), new SimulatorState(), new SimulatorOptions());
                continue;
            }

            var options = new SimulatorOptions { ChunkInterval = TimeSpan.FromMilliseconds(5), RequiredKey = key };
            var state = new SimulatorState();
            var app = SimulatorApp.Build("http://127.0.0.1:0", options, state);
            await app.StartAsync();
            pool._apps.Add(app);
            pool.All[name] = new Destination(name, SimulatorApp.Address(app), state, options);
        }

        return pool;
    }

    /// <summary>
    /// A cluster of the pool's destinations (Bearer keys from <c>KEY_&lt;name&gt;</c>), with per-destination metadata
    /// (<c>MixProxy.Priority</c>, <c>MixProxy.Weight</c>, <c>MixProxy.QuotaGroup</c>…) and a <c>Resilience</c> section.
    /// </summary>
    public JsonObject Cluster(JsonObject? resilience = null, Func<string, JsonObject?>? metadata = null)
    {
        var destinations = new JsonObject();
        foreach (var (name, destination) in All)
        {
            var meta = metadata?.Invoke(name) ?? new JsonObject();
            meta["MixProxy.CredentialEnv"] ??= "KEY_" + name.ToUpperInvariant();
            destinations[name] = new JsonObject { ["Address"] = destination.Address, ["Metadata"] = meta };
        }

        var cluster = new JsonObject
        {
            ["Destinations"] = destinations,
            ["Metadata"] = new JsonObject { ["MixProxy.UpstreamAuth"] = "Bearer", ["MixProxy.ForwardHeaders"] = "x-simulator-*" },
        };
        if (resilience is not null)
        {
            cluster["Resilience"] = resilience.DeepClone();
        }

        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static string ClosedPortAddress()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}";
    }

    /// <summary>One destination: its address, what it received, and how it behaves.</summary>
    public sealed record Destination(string Name, string Address, SimulatorState State, SimulatorOptions Options)
    {
        public int Calls => State.Received.Count;
    }
}
