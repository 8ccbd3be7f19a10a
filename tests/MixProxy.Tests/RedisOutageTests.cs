using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// A real redis-server killed, restarted, frozen (SIGSTOP) and thawed under a real gateway: the limiter notices the
/// outage, stops asking a hung Redis after its first timeout, and reports itself healthy again — readiness and
/// <c>mixproxy_limiter_degraded</c> — as soon as Redis answers, with no client request needed to find out.
/// Redis calls are counted from the gateway's own <c>mixproxy_limiter_store_duration_seconds</c> histogram.
/// </summary>
// Reads /metrics: the gateway's meters are matched by name process-wide, so no other gateway may run meanwhile.
[Collection(nameof(MetricsTests))]
public sealed class RedisOutageTests
{
    private const string AdmitCalls = "mixproxy_limiter_store_duration_seconds_count";
    private const string Chat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RedisKilledThenRestarted_IdleReplica_ReportsRecoveryWithoutAnyRequest()
    {
        await using var redis = await RedisServer.StartAsync(owned: true);
        var key = new LimitedKey(new JsonObject { ["RequestsPerMinute"] = 1000 });
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo, redis.ConnectionString);
        using var client = gateway.CreateClient(key.Value);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);

        await redis.KillAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);
        Assert.Contains("degraded", await ReadyAsync(client), StringComparison.Ordinal);
        Assert.Equal(1, Sample(await ScrapeAsync(client), "mixproxy_limiter_degraded"));

        await redis.RestartAsync();
        var ready = await PollAsync(() => ReadyAsync(client), text => text.Contains("shared in Redis", StringComparison.Ordinal));
        var page = await PollAsync(() => ScrapeAsync(client), text => Sample(text, "mixproxy_limiter_degraded") == 0);

        // Only readiness and /metrics were asked: the two limited requests are all the gateway ever served.
        Assert.Contains("shared in Redis", ready, StringComparison.Ordinal);
        Assert.Equal(0, Sample(page, "mixproxy_limiter_degraded"));
        Assert.Equal(2, gateway.Upstream.Received.Count);
    }

    [Fact]
    public async Task RedisFrozen_OnlyTheFirstRequestAsksIt_ThenThawed_TheBreakerClosesWithoutTraffic()
    {
        await using var redis = await RedisServer.StartAsync(owned: true);
        var key = new LimitedKey(new JsonObject { ["RequestsPerMinute"] = 1000 });
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo, redis.ConnectionString);
        using var client = gateway.CreateClient(key.Value);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);
        Assert.Equal(1, Sample(await ScrapeAfterAsync(client, decisions: 1), AdmitCalls));

        redis.Freeze();
        try
        {
            for (var i = 0; i < 6; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);
            }

            var whileFrozen = await ScrapeAfterAsync(client, decisions: 7);

            // One admit went to the hung Redis and timed out; the five after it were served locally without asking.
            Assert.Equal(2, Sample(whileFrozen, AdmitCalls));
            Assert.Equal(1, Sample(whileFrozen, AdmitCalls, "mixproxy_limiter_store_outcome=\"error\""));
            Assert.Equal(1, Sample(whileFrozen, "mixproxy_limiter_degraded"));
            Assert.Contains("degraded", await ReadyAsync(client), StringComparison.Ordinal);
        }
        finally
        {
            redis.Thaw();
        }

        var ready = await PollAsync(() => ReadyAsync(client), text => text.Contains("shared in Redis", StringComparison.Ordinal));
        var page = await PollAsync(() => ScrapeAsync(client), text => Sample(text, "mixproxy_limiter_degraded") == 0);
        Assert.Contains("shared in Redis", ready, StringComparison.Ordinal);
        Assert.Equal(0, Sample(page, "mixproxy_limiter_degraded"));

        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);
        var after = await ScrapeAfterAsync(client, decisions: 8);
        Assert.Equal(2, Sample(after, AdmitCalls, "mixproxy_limiter_store_outcome=\"ok\""));
    }

    private static async Task<string> ReadyAsync(HttpClient client) =>
        await client.GetStringAsync("/healthz/ready", TestContext.Current.CancellationToken);

    private static async Task<string> ScrapeAsync(HttpClient client) =>
        await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);

    /// <summary>
    /// The metrics page once it shows <paramref name="decisions"/> limiter decisions: the exporter serves a cached page
    /// for a short while, so a scrape right after a request may not show it yet.
    /// </summary>
    private static Task<string> ScrapeAfterAsync(HttpClient client, int decisions) =>
        PollAsync(() => ScrapeAsync(client), page => Sample(page, "mixproxy_limiter_decisions_total") >= decisions);

    /// <summary>Asks again every 100 ms until <paramref name="done"/> holds or the recovery deadline passes; returns the last answer.</summary>
    private static async Task<string> PollAsync(Func<Task<string>> ask, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow + RecoveryDeadline;
        var answer = await ask();
        while (!done(answer) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            answer = await ask();
        }

        return answer;
    }

    /// <summary>The sum of a metric's samples whose labels contain every one of <paramref name="labels"/> (admit calls: operation="admit").</summary>
    private static double Sample(string page, string name, params string[] labels)
    {
        var required = name == AdmitCalls ? [.. labels, "mixproxy_limiter_operation=\"admit\""] : labels;
        return page.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(line => required.All(label => line.Contains(label, StringComparison.Ordinal)))
            .Sum(line => double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture));
    }
}
