using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// Every shared state works on a three-master Redis Cluster, as it does on one Redis: the limiter's multi-key scripts
/// (a client key's keys share one hash slot), the response cache, stored Responses API results, remembered thought
/// signatures, and upstream cooldowns (one hash plus a channel). Replicas are separate gateways on the same cluster.
/// </summary>
public sealed class RedisClusterTests(RedisClusterTests.SharedCluster shared) : IClassFixture<RedisClusterTests.SharedCluster>
{
    private const string Chat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";

    private RedisCluster Redis => shared.Cluster;

    [Fact]
    public async Task TwoGatewayProcesses_SharingARedisCluster_AdmitTogetherWhatOneWouldAlone()
    {
        // Requests, tokens and concurrency at once: the admission script touches four keys, all in one slot.
        await TwoReplicas.AssertAdmitTogetherWhatOneWouldAloneAsync(
            Redis.ConnectionString,
            new JsonObject { ["RequestsPerMinute"] = 10, ["TokensPerMinute"] = 1_000_000, ["ConcurrentRequests"] = 50 },
            async (first, a, key) =>
            {
                // The limits were really kept in the cluster (not in memory after a failed script), on the key's own slot.
                await using var connection = await Redis.ConnectAsync();
                Assert.True(await connection.GetDatabase().StringGetAsync(key.TokenCounterKey) is { HasValue: true } charged && (long)charged > 0);
                var ready = await a.GetStringAsync("/healthz/ready", TestContext.Current.CancellationToken);
                Assert.Contains("limits shared in Redis", ready, StringComparison.Ordinal);
            });
    }

    [Fact]
    public async Task ResponseCache_OnARedisCluster_IsSharedByEveryGateway()
    {
        static void CacheChatRoute(JsonObject config) => config["ReverseProxy"]!["Routes"]!["openai-chat"]!["Metadata"]!["MixProxy.Cache"] = "true";
        await using var first = await GatewayFixture.StartAsync(CacheChatRoute, Redis.ConnectionString);
        await using var second = await GatewayFixture.StartAsync(CacheChatRoute, Redis.ConnectionString);
        var unique = Chat.Replace("Hi", "Cache me " + Guid.NewGuid().ToString("N"), StringComparison.Ordinal);

        var (_, _, miss) = await first.CreateClient().PostJsonAsync("/v1/chat/completions", unique);
        HttpResponseMessage hit;
        var deadline = Stopwatch.StartNew();
        do
        {
            // The entry is written as the first response finishes; give the write a moment to land.
            (_, _, hit) = await second.CreateClient().PostJsonAsync("/v1/chat/completions", unique);
        }
        while (CacheHeader(hit) != "hit" && deadline.Elapsed < TimeSpan.FromSeconds(5));

        Assert.Equal("miss", CacheHeader(miss));
        Assert.Equal("hit", CacheHeader(hit));
        Assert.Empty(second.Upstream.Received);
    }

    [Fact]
    public async Task StoredResponse_OnARedisCluster_IsReadAndContinuedOnAnotherReplica()
    {
        await using var first = await GatewayFixture.StartAsync(redis: Redis.ConnectionString);
        await using var second = await GatewayFixture.StartAsync(redis: Redis.ConnectionString);

        var (status, created, _) = await first.CreateClient().PostJsonAsync("/v1/responses", """{"model":"gemini-3.1-pro-preview","input":"Remember me"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var id = created!["id"]!.GetValue<string>();

        var (readStatus, read) = await second.CreateClient().GetJsonAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.OK, readStatus);
        Assert.Equal(id, read!["id"]!.GetValue<string>());
        var (continued, body, _) = await second.CreateClient().PostJsonAsync("/v1/responses", $$"""{"model":"gemini-3.1-pro-preview","input":"Go on","previous_response_id":"{{id}}"}""");
        Assert.Equal(HttpStatusCode.OK, continued);
        Assert.Equal(id, body!["previous_response_id"]!.GetValue<string>());
        Assert.Contains("Remember me", second.Upstream.Received.Last().Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThoughtSignature_RememberedByOneReplicaOnARedisCluster_IsRestoredByAnother()
    {
        const string Tools = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""";
        await using var first = await GatewayFixture.StartAsync(redis: Redis.ConnectionString);
        await using var second = await GatewayFixture.StartAsync(redis: Redis.ConnectionString);
        first.Upstream.Enqueue(new ScriptedReply(Body: """
            {"responseId":"turn-1","candidates":[{"content":{"role":"model","parts":[
              {"functionCall":{"id":"fc_paris","name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2lnbmF0dXJlLW9uZQ=="}]},"finishReason":"STOP"}]}
            """));

        var (status, _, _) = await first.CreateClient().PostJsonAsync("/v1/chat/completions", $$"""{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Weather?"}],"tools":{{Tools}}}""");
        Assert.Equal(HttpStatusCode.OK, status);

        // The next turn goes to the other replica, without extra_content, as many clients send it.
        var secondTurn = """
            {"model":"gemini-3.1-pro-preview","tools":TOOLS,"messages":[
              {"role":"user","content":"Weather?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"fc_paris","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"fc_paris","content":"21°C"}]}
            """.Replace("TOOLS", Tools, StringComparison.Ordinal);
        var (next, _, _) = await second.CreateClient().PostJsonAsync("/v1/chat/completions", secondTurn);

        Assert.Equal(HttpStatusCode.OK, next);
        var parts = JsonNode.Parse(second.Upstream.Received.Last().Body)!["contents"]![1]!["parts"]!.AsArray();
        Assert.Equal("c2lnbmF0dXJlLW9uZQ==", parts[0]!["thoughtSignature"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpstreamCooldown_OnARedisCluster_ReachesTheOtherReplica()
    {
        await using var pool = await UpstreamPool.StartAsync(["primary", "backup"]);
        var upstreams = pool.Cluster(metadata: name => new JsonObject { ["MixProxy.Priority"] = name == "primary" ? "0" : "1" });
        void UsePool(JsonObject config)
        {
            config["ReverseProxy"]!["Clusters"]!["pool"] = upstreams.DeepClone();
            config["Models"]!.AsArray().Single(m => m!["Name"]!.GetValue<string>() == "gemini-3.1-pro-preview")!["Cluster"] = "pool";
        }

        await using var first = await GatewayFixture.StartAsync(UsePool, Redis.ConnectionString, environment: pool.Environment);
        await using var second = await GatewayFixture.StartAsync(UsePool, Redis.ConnectionString, environment: pool.Environment);
        pool["primary"].State.Enqueue(new ScriptedReply(429, """{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED"}}""") { Headers = new Dictionary<string, string> { ["Retry-After"] = "30" } });

        var (status, _, response) = await first.CreateClient().PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("pool/backup", response.Headers.GetValues("x-mixproxy-upstream").Single());

        // The other replica hears of the cooldown through the cluster and spares the primary.
        var deadline = Stopwatch.StartNew();
        while ((await PrimaryAsync(second))?["cooldown"]?["reason"]?.GetValue<string>() != "quota" && deadline.Elapsed < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal("quota", (await PrimaryAsync(second))?["cooldown"]?["reason"]?.GetValue<string>());
        var (_, _, spared) = await second.CreateClient().PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal("pool/backup", spared.Headers.GetValues("x-mixproxy-upstream").Single());
        Assert.Equal(1, pool["primary"].Calls);
    }

    private static string? CacheHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-mixproxy-cache", out var values) ? values.Single() : null;

    private static async Task<JsonNode?> PrimaryAsync(GatewayFixture gateway)
    {
        var (_, body) = await gateway.CreateClient(key: null).GetJsonAsync("/admin/upstreams");
        return body!["clusters"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "pool")!["destinations"]!.AsArray().Single(d => d!["id"]!.GetValue<string>() == "primary");
    }

    /// <summary>One cluster for the class (forming one takes seconds); each test uses its own keys, bodies and ids.</summary>
    public sealed class SharedCluster : IAsyncLifetime
    {
        public RedisCluster Cluster { get; private set; } = null!;

        public async ValueTask InitializeAsync() => Cluster = await RedisCluster.StartAsync();

        public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
    }
}
