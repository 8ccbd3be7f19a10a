using System.Diagnostics;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests.HostileInput;

/// <summary>
/// Redis, which keeps the limits, killed, hung (SIGSTOP) and restarted under every client endpoint: requests go on being served
/// under local limits without waiting for the dead or silent Redis, and limits are shared again once it is back.
/// </summary>
public sealed class RedisFaultTests
{
    [Fact]
    public async Task RedisKilledThenRestarted_EveryEndpointIsServedThroughout_AndLimitsAreSharedAgain()
    {
        await using var redis = await RedisServer.StartAsync(owned: true);
        await using var battery = await BatteryGateway.StartWithRedisAsync(redis.ConnectionString);
        await ServeEveryEndpointAsync(battery);

        await redis.KillAsync();
        var clock = Stopwatch.StartNew();
        var served = await ServeEveryEndpointAsync(battery);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(served), $"{served} requests took {clock.Elapsed} with Redis dead: some waited for it");
        Assert.Contains("degraded", await ReadyAsync(battery), StringComparison.Ordinal);

        await redis.RestartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(await ReadyAsync(battery)).Contains("shared in Redis", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await ServeEveryEndpointAsync(battery);
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        Assert.Contains("shared in Redis", await ReadyAsync(battery), StringComparison.Ordinal);
        await ServeEveryEndpointAsync(battery);
    }

    [Fact]
    public async Task RedisHung_EveryEndpointIsServed_AndTheGatewayServesOnceItAnswersAgain()
    {
        await using var redis = await RedisServer.StartAsync(owned: true);
        await using var battery = await BatteryGateway.StartWithRedisAsync(redis.ConnectionString);
        await ServeEveryEndpointAsync(battery);

        var redisProcess = Freeze(redis);
        try
        {
            await ServeEveryEndpointAsync(battery);
            await ServeEveryEndpointAsync(battery);
        }
        finally
        {
            Signal(redisProcess, "CONT");
        }

        await ServeEveryEndpointAsync(battery);
    }

    /// <summary>
    /// Issue 15 ("a hung Redis costs every limited request the full 250 ms timeout with no short-circuit"), helper
    /// `reliability`: left out until it lands.
    /// </summary>
    [Fact]
    public async Task RedisHung_RequestsAfterTheFirstTimeoutDoNotWaitForIt()
    {
        await using var redis = await RedisServer.StartAsync(owned: true);
        await using var battery = await BatteryGateway.StartWithRedisAsync(redis.ConnectionString);
        await ServeEveryEndpointAsync(battery);

        var redisProcess = Freeze(redis);
        try
        {
            await ServeEveryEndpointAsync(battery); // the first requests find out Redis is not answering
            var clock = Stopwatch.StartNew();
            var served = await ServeEveryEndpointAsync(battery);
            Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(150 * served), $"{served} requests took {clock.Elapsed} while Redis hung: each waited for its timeout");
        }
        finally
        {
            Signal(redisProcess, "CONT");
        }
    }

    /// <summary>
    /// Issue 15 ("readiness and mixproxy_limiter_degraded stay degraded on an idle replica after Redis returns"),
    /// helper `reliability`: left out until it lands.
    /// </summary>
    [Fact]
    public async Task RedisRestarted_AnIdleGatewayIsReadyAgainWithoutARequest()
    {
        await using var redis = await RedisServer.StartAsync(owned: true);
        await using var battery = await BatteryGateway.StartWithRedisAsync(redis.ConnectionString);
        await ServeEveryEndpointAsync(battery);
        await redis.KillAsync();
        await ServeEveryEndpointAsync(battery);
        Assert.Contains("degraded", await ReadyAsync(battery), StringComparison.Ordinal);

        await redis.RestartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(await ReadyAsync(battery)).Contains("shared in Redis", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }

        Assert.Contains("shared in Redis", await ReadyAsync(battery), StringComparison.Ordinal);
    }

    /// <summary>Sends every served endpoint's good request once, each a 200; the number of requests.</summary>
    private static async Task<int> ServeEveryEndpointAsync(BatteryGateway battery)
    {
        var count = 0;
        foreach (var endpoint in BatteryGateway.Routes().Select(r => r.Endpoint).Distinct())
        {
            var model = BatteryGateway.ModelFor(BatteryGateway.Routes().First(r => r.Endpoint == endpoint).Upstream);
            var answer = await battery.SendGoodAsync(endpoint.Id, model);
            Assert.True(answer.Status == 200, $"{endpoint.Id}: {answer}");
            count++;
        }

        return count;
    }

    /// <summary>
    /// Makes Redis stop answering with its connections left open, as a hung server does: the test's own redis-server
    /// (found by its port, in its arguments or the process title Redis gives itself) gets SIGSTOP. Returns its process id, for <see cref="Signal"/> CONT.
    /// </summary>
    private static int Freeze(RedisServer redis)
    {
        if (redis.Source != "redis-server")
        {
            Assert.Skip($"Hanging Redis needs a redis-server process of the test's own (this Redis comes from {redis.Source}).");
        }

        var port = redis.ConnectionString.Split(',')[0].Split(':')[1];
        var pid = Directory.GetDirectories("/proc").Select(d => Path.GetFileName(d)).Where(name => name.All(char.IsAsciiDigit))
            .Select(int.Parse)
            .Single(id => ReadCommandLine(id) is { } line && line.Contains("redis-server", StringComparison.Ordinal) && (line.Contains($"--port\0{port}\0", StringComparison.Ordinal) || line.Contains($":{port}", StringComparison.Ordinal)));
        Signal(pid, "STOP");
        return pid;
    }

    private static string? ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {pid}") { RedirectStandardError = true })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static async Task<string> ReadyAsync(BatteryGateway battery)
    {
        using var client = battery.Gateway.CreateClient(key: null);
        using var response = await client.GetAsync("/healthz/ready", TestContext.Current.CancellationToken);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }
}
