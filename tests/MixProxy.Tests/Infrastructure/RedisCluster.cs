using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace MixProxy.Tests.Infrastructure;

/// <summary>
/// A real three-master Redis Cluster on loopback: three <c>redis-server --cluster-enabled yes</c> processes joined by
/// <c>redis-cli --cluster create</c>, no replicas, each node's state in a temp folder that goes with it. The connection
/// string names every node, as a production one does.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private readonly List<Process> _nodes = [];
    private readonly string _directory;

    private RedisCluster(string directory, int[] ports)
    {
        _directory = directory;
        Ports = ports;
    }

    public IReadOnlyList<int> Ports { get; }

    public string ConnectionString => string.Join(',', Ports.Select(p => $"127.0.0.1:{p}")) + ",abortConnect=false";

    public static async Task<RedisCluster> StartAsync()
    {
        var server = LocalMachine.FindBinary("redis-server") ?? throw new InvalidOperationException("No redis-server for the Redis Cluster tests: apt-get install -y redis-server (./test.sh does).");
        var cli = LocalMachine.FindBinary("redis-cli") ?? throw new InvalidOperationException("No redis-cli for the Redis Cluster tests: apt-get install -y redis-tools.");
        var directory = Path.Combine(Path.GetTempPath(), "mixproxy-redis-cluster-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var cluster = new RedisCluster(directory, [LocalMachine.FreePort(), LocalMachine.FreePort(), LocalMachine.FreePort()]);
        try
        {
            foreach (var port in cluster.Ports)
            {
                cluster._nodes.Add(Start(server, directory,
                    "--port", $"{port}", "--bind", "127.0.0.1", "--protected-mode", "yes", "--save", "", "--appendonly", "no",
                    "--dir", directory, "--cluster-enabled", "yes", "--cluster-config-file", $"nodes-{port}.conf", "--cluster-node-timeout", "2000"));
            }

            foreach (var port in cluster.Ports)
            {
                await WaitListeningAsync(port);
            }

            using var create = Start(cli, directory, ["--cluster", "create", .. cluster.Ports.Select(p => $"127.0.0.1:{p}"), "--cluster-replicas", "0", "--cluster-yes"]);
            using var created = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await create.WaitForExitAsync(created.Token);
            if (create.ExitCode != 0)
            {
                throw new InvalidOperationException($"redis-cli --cluster create exited {create.ExitCode}.");
            }

            await cluster.WaitUntilStateOkAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async Task<IConnectionMultiplexer> ConnectAsync() => await ConnectionMultiplexer.ConnectAsync(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            if (!node.HasExited)
            {
                node.Kill(entireProcessTree: true);
                await node.WaitForExitAsync();
            }

            node.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Every node agrees the cluster is whole (all 16384 slots served) before a test uses it.</summary>
    private async Task WaitUntilStateOkAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
                var states = await Task.WhenAll(Ports.Select(async p => (string)(await connection.GetServer($"127.0.0.1:{p}").ExecuteAsync("CLUSTER", "INFO"))!));
                if (states.All(s => s.Contains("cluster_state:ok", StringComparison.Ordinal) && s.Contains("cluster_slots_assigned:16384", StringComparison.Ordinal)))
                {
                    return;
                }
            }
            catch (RedisException)
            {
                // still forming
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("The Redis Cluster did not reach cluster_state:ok within 20 s.");
    }

    private static Process Start(string binary, string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(binary) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{binary} did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitListeningAsync(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException($"redis-server did not listen on port {port} within 10 s.");
    }
}
