using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>Per-key limits: enforced in memory or in a real Redis shared by several gateways, exact under concurrency, and live-editable.</summary>
public sealed class RateLimitTests
{
    private const string Chat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";

    private static JsonObject Rpm(int limit) => new() { ["RequestsPerMinute"] = limit };

    [Fact]
    public async Task RequestsPerMinute_ExceededInRedis_Returns429InEachProtocolWithRetryAfterAndHeaders()
    {
        await using var redis = await RedisServer.StartAsync();
        var key = new LimitedKey(Rpm(3));
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo, redis.ConnectionString);
        using var client = gateway.CreateClient(key.Value);

        var remaining = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (status, _, response) = await client.PostJsonAsync("/v1/chat/completions", Chat);
            Assert.Equal(HttpStatusCode.OK, status);
            remaining.Add(response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
            Assert.Equal("3", response.Headers.GetValues("x-ratelimit-limit-requests").Single());
            Assert.StartsWith("\"requests\";q=3;w=60", response.Headers.GetValues("RateLimit-Policy").Single(), StringComparison.Ordinal);
        }

        var (chatStatus, chatBody, chatResponse) = await client.PostJsonAsync("/v1/chat/completions", Chat);
        var (geminiStatus, geminiBody, geminiResponse) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""");

        Assert.Equal(["2", "1", "0"], remaining);
        Assert.Equal(HttpStatusCode.TooManyRequests, chatStatus);
        HttpHelpers.AssertOpenAIError(chatBody, "rate_limit_exceeded");
        Assert.InRange(chatResponse.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 20);
        Assert.Equal("0", chatResponse.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, geminiStatus);
        HttpHelpers.AssertGoogleError(geminiBody, 429, "RESOURCE_EXHAUSTED");
        Assert.NotNull(geminiResponse.Headers.RetryAfter);
        Assert.Equal(3, gateway.Upstream.Received.Count);
    }

    [Fact]
    public async Task RequestsPerMinute_WithoutRedis_AreEnforcedInMemory()
    {
        var key = new LimitedKey(Rpm(2));
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo);
        using var client = gateway.CreateClient(key.Value);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        using var ready = await client.GetAsync("/healthz/ready", TestContext.Current.CancellationToken);
        Assert.Contains("limits in memory", await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoGatewayProcesses_SharingOneRedis_AdmitTogetherWhatOneWouldAlone()
    {
        await using var redis = await RedisServer.StartAsync();
        await TwoReplicas.AssertAdmitTogetherWhatOneWouldAloneAsync(redis.ConnectionString, Rpm(10));
    }

    [Fact]
    public async Task ConcurrentStreams_StayWithinTheTokenLimit_AndRecordedUsageEqualsWhatTheUpstreamReported()
    {
        await using var redis = await RedisServer.StartAsync();
        const string Stream = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Tell me a story"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":50}""";
        var reservation = (System.Text.Encoding.UTF8.GetByteCount(Stream) + 3) / 4 + 50;
        var limit = (5 * reservation) + (reservation / 2);
        var key = new LimitedKey(new JsonObject { ["TokensPerMinute"] = limit });
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo, redis.ConnectionString);
        gateway.UpstreamOptions.ChunkInterval = TimeSpan.FromMilliseconds(40);
        using var client = gateway.CreateClient(key.Value);

        async Task<(HttpStatusCode Status, long Tokens)> StreamOnce()
        {
            var (status, _, response) = await client.PostJsonAsync("/v1/chat/completions", Stream);
            if (status != HttpStatusCode.OK)
            {
                return (status, 0);
            }

            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            var usage = text.Split("\n\n").Select(e => e.StartsWith("data: {", StringComparison.Ordinal) ? JsonNode.Parse(e[6..]) : null).Last(e => e?["usage"] is JsonObject)!;
            return (status, usage["usage"]!["total_tokens"]!.GetValue<long>());
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => StreamOnce()));

        // Reservations are taken before forwarding, so the burst cannot overshoot: 5 fit, the 6th does not.
        var admitted = results.Count(r => r.Status == HttpStatusCode.OK);
        Assert.InRange(admitted, 1, (limit / reservation) + 1);
        Assert.Equal(12 - admitted, results.Count(r => r.Status == HttpStatusCode.TooManyRequests));

        // After the streams end, what the limiter recorded is exactly what the upstream reported.
        await using var connection = await redis.ConnectAsync();
        Assert.Equal(results.Sum(r => r.Tokens), await key.TokensChargedAsync(connection.GetDatabase(), results.Sum(r => r.Tokens)));
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse", """{"contents":[{"parts":[{"text":"Hi"}]}]}""")]
    [InlineData("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""")]
    [InlineData("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""")]
    public async Task UntranslatedResponses_AreChargedTheUsageTheyReport(string path, string json)
    {
        await using var redis = await RedisServer.StartAsync();
        var key = new LimitedKey(new JsonObject { ["TokensPerMinute"] = 1_000_000 });
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo, redis.ConnectionString);
        using var client = gateway.CreateClient(key.Value);

        var (status, _, response) = await client.PostJsonAsync(path, json);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        var reported = System.Text.RegularExpressions.Regex.Matches(text, "\"(?:total_tokens|totalTokenCount)\":(\\d+)").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Last();
        await using var connection = await redis.ConnectAsync();
        Assert.Equal(reported, await key.TokensChargedAsync(connection.GetDatabase(), reported));
    }

    [Fact]
    public async Task OpenAIStreamWithoutIncludeUsage_IsStillChargedItsRealUsage_AndTheClientSeesNoUsageChunk()
    {
        await using var redis = await RedisServer.StartAsync();
        var key = new LimitedKey(new JsonObject { ["TokensPerMinute"] = 1_000_000 });
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo, redis.ConnectionString);
        using var client = gateway.CreateClient(key.Value);

        var (status, _, response) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}""");
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("\"usage\"", text, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
        var upstreamBody = Assert.Single(gateway.Upstream.Received).Body;
        Assert.True(JsonNode.Parse(upstreamBody)!["stream_options"]!["include_usage"]!.GetValue<bool>());
        await using var connection = await redis.ConnectAsync();
        var recorded = (long)await connection.GetDatabase().StringGetAsync(key.TokenCounterKey);
        // The simulator reports prompt tokens as body bytes / 4 and one token per word of its 8-word reply.
        Assert.Equal(8 + (System.Text.Encoding.UTF8.GetByteCount(upstreamBody) / 4), recorded);
    }

    [Fact]
    public async Task CountTokens_CountsAsARequest_ButReservesNoTokens()
    {
        var key = new LimitedKey(new JsonObject { ["TokensPerMinute"] = 1500 });
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo);
        using var client = gateway.CreateClient(key.Value);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:countTokens", """{"contents":[{"parts":[{"text":"How many?"}]}]}""")).Status);
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task RedisKilledMidTest_RequestsFlowUnderLocalLimitsAndFailFast_ThenLimitsAreSharedAgain()
    {
        await using var redis = await RedisServer.StartAsync(owned: true);
        var key = new LimitedKey(new JsonObject { ["RequestsPerMinute"] = 1000, ["TokensPerMinute"] = 1_000_000 });
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo, redis.ConnectionString);
        using var client = gateway.CreateClient(key.Value);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);

        await redis.KillAsync();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);
        }

        // A Redis call with default client settings waits ~5.9 s in the backlog before failing; ten requests
        // taking under 3 s in all means no request waited for the dead Redis.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"10 requests took {clock.Elapsed} with Redis down");
        Assert.Contains("degraded", await ReadyAsync(client), StringComparison.Ordinal);

        await redis.RestartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(await ReadyAsync(client)).Contains("shared in Redis", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await client.PostJsonAsync("/v1/chat/completions", Chat);
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        Assert.Contains("shared in Redis", await ReadyAsync(client), StringComparison.Ordinal);

        // Recovery needs no traffic (RedisOutageTests), so the loop may end before any request reached the new Redis.
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);
        await using var connection = await redis.ConnectAsync();
        Assert.True(await connection.GetDatabase().KeyExistsAsync(key.TokenCounterKey), "the restarted Redis records the key's usage again");
    }

    [Fact]
    public async Task RedisDown_FailClosed_RefusesLimitedKeysWith503_AndLeavesOthersAlone()
    {
        await using var redis = await RedisServer.StartAsync(owned: true);
        var key = new LimitedKey(Rpm(1000));
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo, redis.ConnectionString, ["--MixProxy:RateLimiting:FailureMode=Closed"]);
        using var limited = gateway.CreateClient(key.Value);
        using var unlimited = gateway.CreateClient();

        await redis.KillAsync();
        var (limitedStatus, limitedBody, limitedResponse) = await limited.PostJsonAsync("/v1/chat/completions", Chat);
        var (unlimitedStatus, _, _) = await unlimited.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, limitedStatus);
        HttpHelpers.AssertOpenAIError(limitedBody);
        Assert.NotNull(limitedResponse.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, unlimitedStatus);
    }

    [Fact]
    public async Task InvalidLimiterSetting_StopsStartUpNamingIt()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayFixture.StartAsync(args: ["--MixProxy:RateLimiting:RedisTimeout=00:05:00"]));

        Assert.Contains("RedisTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LimitEditedInTheFile_AppliesLive_WithoutForgettingUsage()
    {
        var key = new LimitedKey(Rpm(3));
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo);
        using var client = gateway.CreateClient(key.Value);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);

        var config = TestConfig.Default(gateway.SimulatorAddress);
        new LimitedKey(Rpm(5)) { }.AddTo(config);
        config["Keys"]![2]!["Hash"] = key.ConfigHash;
        await gateway.WriteConfigAsync(config);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(await ReadyAsync(client)).Contains("generation 2", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        // Raised from 3 to 5 after 3 were used: exactly 2 more, not a fresh 5.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }

    private static async Task<string> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/healthz/ready", TestContext.Current.CancellationToken);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }
}
