using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Auth;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>The opt-in exact-match response cache: replays whole and streamed answers, never errors, never across keys that may not share.</summary>
public sealed class ResponseCacheTests
{
    private const string Chat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Cache me"}],"temperature":0}""";
    private const string ChatWithOtherWhitespace = """{ "model": "gemini-3.1-pro-preview", "messages": [ {"role":"user", "content":"Cache me"} ], "temperature": 0 }""";

    private static void CacheChatRoute(JsonObject config) => config["ReverseProxy"]!["Routes"]!["openai-chat"]!["Metadata"]!["MixProxy.Cache"] = "true";

    private static string? CacheHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-mixproxy-cache", out var values) ? values.Single() : null;

    [Fact]
    public async Task CachedRoute_SecondIdenticalRequest_IsReplayedWithoutCallingTheUpstream()
    {
        await using var gateway = await GatewayFixture.StartAsync(CacheChatRoute);
        using var client = gateway.CreateClient();

        var (_, first, firstResponse) = await client.PostJsonAsync("/v1/chat/completions", Chat);
        var (status, second, secondResponse) = await client.PostJsonAsync("/v1/chat/completions", ChatWithOtherWhitespace);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("miss", CacheHeader(firstResponse));
        Assert.Equal("hit", CacheHeader(secondResponse));
        Assert.True(JsonNode.DeepEquals(first, second));
        Assert.Single(gateway.Upstream.Received);
    }

    [Fact]
    public async Task PerRequestOptIn_ReplaysAStreamEventForEvent()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        const string Stream = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Stream and cache"}],"stream":true}""";

        var (_, _, first) = await client.PostJsonAsync("/v1/chat/completions", Stream, ("x-mixproxy-cache", "on"));
        var firstText = await first.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var (_, _, second) = await client.PostJsonAsync("/v1/chat/completions", Stream, ("x-mixproxy-cache", "on"));
        var secondText = await second.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var (_, _, third) = await client.PostJsonAsync("/v1/chat/completions", Stream);

        Assert.Equal("miss", CacheHeader(first));
        Assert.Equal("hit", CacheHeader(second));
        Assert.Equal("text/event-stream", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal(firstText, secondText);
        Assert.EndsWith("data: [DONE]\n\n", secondText, StringComparison.Ordinal);
        Assert.Null(CacheHeader(third)); // no opt-in, no cache
        Assert.Equal(2, gateway.Upstream.Received.Count);
    }

    [Fact]
    public async Task SseAndJsonArrayStreams_AreSeparateEntries()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        const string Ask = """{"contents":[{"parts":[{"text":"Framing"}]}]}""";

        var (_, _, sse) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse", Ask, ("x-mixproxy-cache", "on"));
        await sse.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var (_, _, array) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent", Ask, ("x-mixproxy-cache", "on"));
        var body = await array.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal("miss", CacheHeader(array));
        Assert.StartsWith("[", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamsThatEndInAnErrorOrAreCut_AreNotCached()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new MixProxy.Simulator.ScriptedReply(Events: ["""{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}""", """{"error":{"code":500,"message":"boom","status":"INTERNAL"}}"""]));
        gateway.Upstream.Enqueue(new MixProxy.Simulator.ScriptedReply(Events: ["""{"candidates":[{"content":{"parts":[{"text":"half an answer"}]}}]}"""]));
        const string Ask = """{"contents":[{"parts":[{"text":"Broken"}]}]}""";
        var statuses = new List<string?>();
        for (var i = 0; i < 3; i++)
        {
            var (_, _, response) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse", Ask, ("x-mixproxy-cache", "on"));
            await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            statuses.Add(CacheHeader(response));
        }

        // An error-ended stream, then a stream with no finish reason: neither may be replayed.
        Assert.Equal(["miss", "miss", "miss"], statuses);
        Assert.Equal(3, gateway.Upstream.Received.Count);
    }

    [Fact]
    public async Task UpstreamErrors_AreNeverCached()
    {
        await using var gateway = await GatewayFixture.StartAsync(CacheChatRoute);
        using var client = gateway.CreateClient();

        var (firstStatus, _, _) = await client.PostJsonAsync("/v1/chat/completions", Chat, ("x-simulator-error", "503"));
        var (secondStatus, _, second) = await client.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, firstStatus);
        Assert.Equal(HttpStatusCode.OK, secondStatus);
        Assert.Equal("miss", CacheHeader(second));
        Assert.Equal(2, gateway.Upstream.Received.Count);
    }

    [Theory]
    [InlineData("Private", "Private", false)]
    [InlineData("Shared", "Shared", true)]
    [InlineData("Shared", "Off", false)]
    public async Task Entries_AreSharedOnlyBetweenKeysThatMayShare(string firstSharing, string secondSharing, bool shared)
    {
        var one = "key-one-" + Guid.NewGuid().ToString("N");
        var two = "key-two-" + Guid.NewGuid().ToString("N");
        await using var gateway = await GatewayFixture.StartAsync(config =>
        {
            CacheChatRoute(config);
            config["Keys"]!.AsArray().Add(new JsonObject { ["Name"] = "one", ["Hash"] = ApiKeyHash.Compute(one), ["Models"] = new JsonArray("*"), ["Cache"] = firstSharing });
            config["Keys"]!.AsArray().Add(new JsonObject { ["Name"] = "two", ["Hash"] = ApiKeyHash.Compute(two), ["Models"] = new JsonArray("*"), ["Cache"] = secondSharing });
        });
        using var first = gateway.CreateClient(one);
        using var second = gateway.CreateClient(two);

        await first.PostJsonAsync("/v1/chat/completions", Chat);
        var (_, _, response) = await second.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(shared ? "hit" : secondSharing == "Off" ? null : "miss", CacheHeader(response));
        Assert.Equal(shared ? 1 : 2, gateway.Upstream.Received.Count);
    }

    [Fact]
    public async Task WithRedis_EntriesAreSharedByEveryGateway()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var first = await GatewayFixture.StartAsync(CacheChatRoute, redis.ConnectionString);
        await using var second = await GatewayFixture.StartAsync(CacheChatRoute, redis.ConnectionString);
        using var a = first.CreateClient();
        using var b = second.CreateClient();
        var unique = Chat.Replace("Cache me", "Cache me " + Guid.NewGuid().ToString("N"), StringComparison.Ordinal);

        var (_, _, miss) = await a.PostJsonAsync("/v1/chat/completions", unique);
        HttpResponseMessage hit;
        var deadline = DateTime.UtcNow.AddSeconds(5);
        do
        {
            // The entry is written as the first response finishes; give the write a moment to land.
            (_, _, hit) = await b.PostJsonAsync("/v1/chat/completions", unique);
        }
        while (CacheHeader(hit) != "hit" && DateTime.UtcNow < deadline);

        Assert.Equal("miss", CacheHeader(miss));
        Assert.Equal("hit", CacheHeader(hit));
        Assert.Single(first.Upstream.Received);
    }
}
