using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DotNet.Testcontainers.Builders;
using StackExchange.Redis;
using Testcontainers.Redis;

namespace MixProxy.Tests.Infrastructure;

/// <summary>
/// A real Redis for the tests: <c>REDIS_URL</c> when set; else the <c>redis-server</c> binary (Debian's package)
/// on a free loopback port; else a Testcontainers container when a Docker engine is reachable. Tests that must
/// kill and restart Redis ask for an owned one (<c>owned: true</c>), which never uses <c>REDIS_URL</c>.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private const int Sigstop = 19;
    private const int Sigcont = 18;

    private readonly int _port;
    private Process? _process;
    private RedisContainer? _container;

    private RedisServer(string connectionString, string source, int port)
    {
        ConnectionString = connectionString;
        Source = source;
        _port = port;
    }

    public string ConnectionString { get; private set; }

    /// <summary>Where this Redis came from: env, redis-server or testcontainers.</summary>
    public string Source { get; }

    public static async Task<RedisServer> StartAsync(bool owned = false)
    {
        if (!owned && Environment.GetEnvironmentVariable("REDIS_URL") is { Length: > 0 } url)
        {
            var uri = url.StartsWith("redis://", StringComparison.Ordinal) ? new Uri(url) : null;
            return new RedisServer(uri is null ? url : $"{uri.Host}:{uri.Port}", "env", 0);
        }

        var port = LocalMachine.FreePort();
        if (LocalMachine.FindBinary("redis-server") is { } binary)
        {
            var server = new RedisServer($"127.0.0.1:{port},abortConnect=false", "redis-server", port);
            await server.StartProcessAsync(binary);
            return server;
        }

        try
        {
            var container = new RedisBuilder("redis:7.0").WithPortBinding(port, 6379).Build();
            await container.StartAsync();
            return new RedisServer($"127.0.0.1:{port},abortConnect=false", "testcontainers", port) { _container = container };
        }
        catch (DockerUnavailableException e)
        {
            throw new InvalidOperationException("No Redis for the tests: set REDIS_URL, install redis-server (apt-get install -y redis-server), or run a Docker engine.", e);
        }
    }

    /// <summary>Stops Redis abruptly (the process is killed, the container stopped).</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        else if (_container is not null)
        {
            await _container.StopAsync();
        }
        else
        {
            throw new InvalidOperationException("This Redis is not owned by the test and cannot be killed.");
        }
    }

    /// <summary>Freezes the server with SIGSTOP: connections stay open and nothing answers, as with a hung Redis.</summary>
    public void Freeze() => Signal(Sigstop);

    /// <summary>Lets a frozen server run again (SIGCONT), with its data intact.</summary>
    public void Thaw() => Signal(Sigcont);

    /// <summary>Starts Redis again on the same port, empty.</summary>
    public async Task RestartAsync()
    {
        if (_container is not null)
        {
            await _container.StartAsync();
        }
        else
        {
            await StartProcessAsync(LocalMachine.FindBinary("redis-server")!);
        }
    }

    public async Task<IConnectionMultiplexer> ConnectAsync() => await ConnectionMultiplexer.ConnectAsync(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private void Signal(int signal)
    {
        if (_process is not { HasExited: false } process)
        {
            throw new InvalidOperationException("Only a redis-server process owned by the test can be frozen.");
        }

        if (Kill(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}.");
        }
    }

    private async Task StartProcessAsync(string binary)
    {
        _process?.Dispose();
        _process = Process.Start(new ProcessStartInfo(binary, $"--port {_port} --bind 127.0.0.1 --save \"\" --appendonly no --protected-mode yes")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, _port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException($"redis-server did not listen on port {_port} within 10 s.");
    }
}
