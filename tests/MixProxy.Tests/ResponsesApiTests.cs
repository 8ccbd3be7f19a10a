using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// The OpenAI Responses API through the gateway, over real sockets: stored responses belong to the key that made them,
/// chains continue on any replica sharing Redis, bad input is an OpenAI error naming the field, a Responses upstream
/// is passed through with its usage counted, and stored answers are never replayed from the cache.
/// </summary>
public sealed class ResponsesApiTests
{
    private const string Model = "gemini-3.1-pro-preview";

    private static string Create(string input, string extra = "") => $$"""{"model":"{{Model}}","input":"{{input}}"{{extra}}}""";

    [Fact]
    public async Task StoredResponse_IsReadListedAndDeletedByItsKey_AndAnotherKeyFindsNothing()
    {
        await using var gateway = await GatewayFixture.StartAsync(config => config["Keys"]!.AsArray().Add(new JsonObject
        {
            ["Name"] = "other-team",
            ["Hash"] = Auth.ApiKeyHash.Compute("other-team-key"),
            ["Models"] = new JsonArray("*"),
        }));
        using var owner = gateway.CreateClient();
        using var other = gateway.CreateClient("other-team-key");

        var (status, created, _) = await owner.PostJsonAsync("/v1/responses", Create("Remember me", ""","instructions":"Be brief" """));
        Assert.Equal(HttpStatusCode.OK, status);
        var id = created!["id"]!.GetValue<string>();

        var (readStatus, read) = await owner.GetJsonAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.OK, readStatus);
        Assert.True(JsonNode.DeepEquals(created, read));

        var (itemsStatus, items) = await owner.GetJsonAsync($"/v1/responses/{id}/input_items");
        Assert.Equal(HttpStatusCode.OK, itemsStatus);
        Assert.Equal("Remember me", items!["data"]![0]!["content"]![0]!["text"]!.GetValue<string>());

        // Another key: as if the id did not exist, for reads, listings, deletes and continuations alike.
        var (otherRead, otherBody) = await other.GetJsonAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.NotFound, otherRead);
        HttpHelpers.AssertOpenAIError(otherBody);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetJsonAsync($"/v1/responses/{id}/input_items")).Status);
        using (var otherDelete = await other.DeleteAsync($"/v1/responses/{id}", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, otherDelete.StatusCode);
        }

        var (continued, continuedBody, _) = await other.PostJsonAsync("/v1/responses", Create("And?", $$""","previous_response_id":"{{id}}" """));
        Assert.Equal(HttpStatusCode.BadRequest, continued);
        Assert.Equal("previous_response_id", continuedBody!["error"]!["param"]!.GetValue<string>());

        using var delete = await owner.DeleteAsync($"/v1/responses/{id}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.True(JsonNode.Parse(await delete.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!["deleted"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetJsonAsync($"/v1/responses/{id}")).Status);
    }

    [Fact]
    public async Task StoreFalse_KeepsNothing_AndAMalformedIdIsNotLookedUp()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (_, created, _) = await client.PostJsonAsync("/v1/responses", Create("Forget me", ""","store":false"""));

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetJsonAsync($"/v1/responses/{created!["id"]!.GetValue<string>()}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetJsonAsync("/v1/responses/resp_..%2F..%2Fx")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.CreateClient(key: null).GetJsonAsync("/v1/responses/resp_abc")).Status);
    }

    [Fact]
    public async Task ChainOfThreeTurns_SendsTheWholeConversationUpstream_EachTimeFromOneStoredRead()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        string? previous = null;
        foreach (var turn in new[] { "first", "second", "third" })
        {
            var chain = previous is null ? string.Empty : $$""","previous_response_id":"{{previous}}" """;
            var (status, body, _) = await client.PostJsonAsync("/v1/responses", Create(turn, chain));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(previous, body!["previous_response_id"]?.GetValue<string>());
            previous = body["id"]!.GetValue<string>();
        }

        var contents = JsonNode.Parse(gateway.Upstream.Received.Last().Body)!["contents"]!.AsArray();
        Assert.Equal(["user", "model", "user", "model", "user"], contents.Select(c => c!["role"]!.GetValue<string>()));
        Assert.Equal("first", contents[0]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Contains("You said: second", contents[3]!["parts"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("third", contents[4]!["parts"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task TwoReplicasSharingRedis_OneStoresAStreamedResponse_TheOtherReadsAndContinuesIt()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var first = await GatewayFixture.StartAsync(redis: redis.ConnectionString);
        await using var second = await GatewayProcess.StartAsync(
            first.ConfigPath,
            new Dictionary<string, string> { ["TEST_UPSTREAM_KEY"] = GatewayFixture.UpstreamSecret },
            $"--MixProxy:RateLimiting:Redis={redis.ConnectionString}");
        using var a = first.CreateClient();
        using var b = new HttpClient { BaseAddress = second.BaseAddress };
        b.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFixture.ClientKey);

        var (_, _, streamed) = await a.PostJsonAsync("/v1/responses", Create("Stream and store", ""","stream":true"""));
        var events = await streamed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var completed = events.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("event: response.completed", completed, StringComparison.Ordinal);
        var id = JsonNode.Parse(completed[(completed.IndexOf("data: ", StringComparison.Ordinal) + 6)..])!["response"]!["id"]!.GetValue<string>();

        // The record is written before the terminal event goes out: the other replica finds it at once.
        var (readStatus, read) = await b.GetJsonAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.OK, readStatus);
        Assert.Equal("completed", read!["status"]!.GetValue<string>());
        var (status, body, _) = await b.PostJsonAsync("/v1/responses", Create("Go on", $$""","previous_response_id":"{{id}}" """));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(id, body!["previous_response_id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"model":"gemini-3.1-pro-preview","input":"Hi","background":true}""", "background")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","input":"Hi","tools":[{"type":"code_interpreter","container":{"type":"auto"}}]}""", "tools[0].type")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","input":"Hi","conversation":"conv_1"}""", "conversation")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","input":"Hi","temprature":0.3}""", "temprature")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","input":5}""", "input")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","input":"Hi","store":"yes"}""", "store")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","input":"Hi","include":["file_search_call.results"]}""", "include[0]")]
    public async Task WhatCannotBeHonoured_IsA400InOpenAIsShapeNamingTheField_AndNeverReachesTheUpstream(string body, string param)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, error, _) = await client.PostJsonAsync("/v1/responses", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertOpenAIError(error);
        Assert.Equal(param, error!["error"]!["param"]!.GetValue<string>());
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task ResponsesUpstream_IsPassedThrough_WithItsUsageSettled_AndChatClientsOfItAre501()
    {
        var key = new LimitedKey(new JsonObject { ["TokensPerMinute"] = 100_000 });
        await using var gateway = await GatewayFixture.StartAsync(config =>
        {
            key.AddTo(config);
            config["Models"]!.AsArray().Add(new JsonObject { ["Name"] = "house-responses", ["Cluster"] = "sim", ["UpstreamModel"] = "gpt-4.1", ["Protocols"] = new JsonArray("OpenAIResponses") });
        });
        using var client = gateway.CreateClient(key.Value);

        var (status, body, _) = await client.PostJsonAsync("/v1/responses", """{"model":"house-responses","input":"Hi there"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("resp_", body!["id"]!.GetValue<string>(), StringComparison.Ordinal);
        var sent = gateway.Upstream.Received.Last();
        Assert.Equal("/v1/responses", sent.Path);
        Assert.Equal("gpt-4.1", JsonNode.Parse(sent.Body)!["model"]!.GetValue<string>());

        var (_, _, streamed) = await client.PostJsonAsync("/v1/responses", """{"model":"house-responses","input":"Hi there","stream":true,"store":false}""");
        var events = await streamed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("event: response.completed", events, StringComparison.Ordinal);

        // The upstream's usage (input and output tokens of both answers) was read and counted.
        var page = await gateway.CreateClient().GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("gen_ai_operation_name=\"responses\"", page, StringComparison.Ordinal);
        Assert.Contains("gen_ai_provider_name=\"openai\"", page, StringComparison.Ordinal);

        var (chatStatus, chatError, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"house-responses","messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(HttpStatusCode.NotImplemented, chatStatus);
        HttpHelpers.AssertOpenAIError(chatError);
    }

    [Theory]
    [InlineData("""{"model":"gemini-3.1-pro-preview","input":"Count me","stream":true}""")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","input":"Count me","max_output_tokens":64}""")]
    [InlineData("""{"model":"gpt-4o-mini","input":"Count me","stream":true,"store":false}""")]
    [InlineData("""{"model":"house-responses","input":"Count me","stream":true,"store":false}""")]
    public async Task EveryRoute_IsChargedExactlyTheUsageTheClientIsShown(string json)
    {
        await using var redis = await RedisServer.StartAsync();
        var key = new LimitedKey(new JsonObject { ["TokensPerMinute"] = 1_000_000 });
        await using var gateway = await GatewayFixture.StartAsync(
            config =>
            {
                key.AddTo(config);
                config["Models"]!.AsArray().Add(new JsonObject { ["Name"] = "house-responses", ["Cluster"] = "sim", ["Protocols"] = new JsonArray("OpenAIResponses") });
            },
            redis.ConnectionString);
        using var client = gateway.CreateClient(key.Value);

        var (status, _, response) = await client.PostJsonAsync("/v1/responses", json);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        var shown = System.Text.RegularExpressions.Regex.Matches(text, "\"total_tokens\":(\\d+)").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Last();
        Assert.True(shown > 0);
        await using var connection = await redis.ConnectAsync();
        Assert.Equal(shown, await key.TokensChargedAsync(connection.GetDatabase(), shown));
    }

    [Fact]
    public async Task Cache_ReplaysUnstoredAnswers_ButNeverAStoredOne()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        static string? CacheHeader(HttpResponseMessage response) => response.Headers.TryGetValues("x-mixproxy-cache", out var values) ? values.Single() : null;

        var unstored = Create("Cache me", ""","store":false""");
        var (_, first, firstResponse) = await client.PostJsonAsync("/v1/responses", unstored, ("x-mixproxy-cache", "on"));
        var (_, second, secondResponse) = await client.PostJsonAsync("/v1/responses", unstored, ("x-mixproxy-cache", "on"));
        Assert.Equal("miss", CacheHeader(firstResponse));
        Assert.Equal("hit", CacheHeader(secondResponse));
        Assert.True(JsonNode.DeepEquals(first, second));

        // The same question with other metadata: the answer repeats the metadata, so it is not the cached one.
        var (_, tagged, taggedResponse) = await client.PostJsonAsync("/v1/responses", Create("Cache me", ""","store":false,"metadata":{"run":"2"}"""), ("x-mixproxy-cache", "on"));
        Assert.Equal("miss", CacheHeader(taggedResponse));
        Assert.Equal("2", tagged!["metadata"]!["run"]!.GetValue<string>());

        var stored = Create("Cache me");
        var (_, one, oneResponse) = await client.PostJsonAsync("/v1/responses", stored, ("x-mixproxy-cache", "on"));
        var (_, two, _) = await client.PostJsonAsync("/v1/responses", stored, ("x-mixproxy-cache", "on"));
        Assert.Null(CacheHeader(oneResponse));
        Assert.NotEqual(one!["id"]!.GetValue<string>(), two!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await client.GetJsonAsync($"/v1/responses/{two["id"]!.GetValue<string>()}")).Status);
    }

    [Fact]
    public async Task UpstreamErrorBeforeTheAnswer_IsTheUpstreamsStatusInOpenAIsShape_AndStoresNothing()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Status: 429, Body: """{"error":{"code":429,"message":"Resource has been exhausted.","status":"RESOURCE_EXHAUSTED"}}"""));

        var (status, body, _) = await client.PostJsonAsync("/v1/responses", Create("Hi"));

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        HttpHelpers.AssertOpenAIError(body);
    }

    [Fact]
    public async Task StreamBrokenByTheUpstreamMidway_EndsWithResponseFailed_AndIsNotStored()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        gateway.Upstream.Enqueue(new ScriptedReply(Events: ["""{"candidates":[{"content":{"parts":[{"text":"Hal"}]}}]}""", """{"error":{"code":500,"message":"boom","status":"INTERNAL"}}"""]));

        var (_, _, streamed) = await client.PostJsonAsync("/v1/responses", Create("Hi", ""","stream":true"""));
        var events = (await streamed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.StartsWith("event: response.failed", events[^1], StringComparison.Ordinal);
        var failed = JsonNode.Parse(events[^1][(events[^1].IndexOf("data: ", StringComparison.Ordinal) + 6)..])!["response"]!;
        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetJsonAsync($"/v1/responses/{failed["id"]!.GetValue<string>()}")).Status);
    }
}
