using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace MixProxy.Tests.Infrastructure;

/// <summary>
/// The fleet's central promise, checked against whatever Redis a test gives: two gateway processes (the second a
/// separate OS process with the same config file and upstream) admit together, for one key limited to 10 requests a
/// minute, what one would alone.
/// </summary>
public static class TwoReplicas
{
    private const string Chat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";

    /// <param name="redis">The connection string both replicas use.</param>
    /// <param name="limits">The key's limits; they must include <c>RequestsPerMinute: 10</c>.</param>
    /// <param name="after">More checks while both replicas still run: the first gateway, a client of it, the key.</param>
    public static async Task AssertAdmitTogetherWhatOneWouldAloneAsync(string redis, JsonObject limits, Func<GatewayFixture, HttpClient, LimitedKey, Task>? after = null)
    {
        var key = new LimitedKey(limits);
        await using var first = await GatewayFixture.StartAsync(key.AddTo, redis);
        await using var second = await GatewayProcess.StartAsync(
            first.ConfigPath,
            new Dictionary<string, string> { ["TEST_UPSTREAM_KEY"] = GatewayFixture.UpstreamSecret },
            $"--MixProxy:RateLimiting:Redis={redis}");
        using var a = first.CreateClient(key.Value);
        using var b = new HttpClient { BaseAddress = second.BaseAddress };
        b.DefaultRequestHeaders.Authorization = new("Bearer", key.Value);

        var clock = Stopwatch.StartNew();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await (i % 2 == 0 ? a : b).PostJsonAsync("/v1/chat/completions", Chat)).Status);
        }

        var burst = Enumerable.Range(0, 36).Select(i => (i % 2 == 0 ? a : b).PostJsonAsync("/v1/chat/completions", Chat));
        statuses.AddRange((await Task.WhenAll(burst)).Select(r => r.Status));
        var elapsed = clock.Elapsed;

        // 10 per minute with a burst of 10: the limit, plus at most what GCRA refills (one per 6 s) meanwhile.
        var admitted = statuses.Count(s => s == HttpStatusCode.OK);
        Assert.InRange(admitted, 10, 10 + (int)(elapsed.TotalSeconds / 6));
        Assert.Equal(40 - admitted, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(admitted, first.Upstream.Received.Count);
        Assert.True(statuses.Where((_, i) => i % 2 == 1).Any(s => s == HttpStatusCode.OK), "the second process served some of the traffic");

        if (after is not null)
        {
            await after(first, a, key);
        }
    }
}
