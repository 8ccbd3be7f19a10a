using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// Several upstreams per model, end to end with one simulator per destination: quota cooldowns as long as the upstream
/// asked (shared by replicas through Redis), destinations that are down or refuse the gateway's key taken out, retries
/// that land on a healthy destination before the client saw a byte, fallbacks to a model on the other protocol, and
/// the bounds that make a retry storm impossible.
/// </summary>
public sealed class UpstreamFailoverTests
{
    private const string Gemini3 = "gemini-3.1-pro-preview";
    private const string ChatHi = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";
    private const string GeminiHi = """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""";
    private const string GenerateContent = "/v1beta/models/gemini-3.1-pro-preview:generateContent";

    private static readonly JsonObject NoCooldownOnFirstFailure = new() { ["Cooldown"] = new JsonObject { ["FailureThreshold"] = 100 } };

    [Fact]
    public async Task QuotaExhausted_WithRetryAfter2_IsSkippedByBothReplicasFor2Seconds_ThenUsedAgain()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var pool = await UpstreamPool.StartAsync(["primary", "backup"]);
        var cluster = pool.Cluster(metadata: name => new JsonObject { ["MixProxy.Priority"] = name == "primary" ? "0" : "1" });
        await using var first = await GatewayAsync(pool, cluster, redis.ConnectionString);
        await using var second = await GatewayAsync(pool, cluster, redis.ConnectionString);
        pool["primary"].State.Enqueue(new ScriptedReply(429, """{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED"}}""") { Headers = new Dictionary<string, string> { ["Retry-After"] = "2" } });

        // The first replica meets the 429, and the client still gets one clean answer, from the backup.
        var (status, body, response) = await first.CreateClient().PostJsonAsync("/v1/chat/completions", ChatHi);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("Hello from the MixProxy simulator", body!["choices"]![0]!["message"]!["content"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("pool/backup", response.Headers.GetValues("x-mixproxy-upstream").Single());
        var cooledAt = Stopwatch.GetTimestamp();

        // The other replica learns of the cooldown through Redis and spares the primary.
        await WaitUntilAsync(async () => (await StatusAsync(second, "primary"))?["cooldown"]?["reason"]?.GetValue<string>() == "quota");
        var (_, _, spared) = await second.CreateClient().PostJsonAsync("/v1/chat/completions", ChatHi);
        Assert.Equal("pool/backup", spared.Headers.GetValues("x-mixproxy-upstream").Single());
        Assert.Equal(1, pool["primary"].Calls);

        // Two seconds after the 429, both replicas use the primary again.
        var wait = TimeSpan.FromSeconds(2.2) - Stopwatch.GetElapsedTime(cooledAt);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, TestContext.Current.CancellationToken);
        }

        foreach (var gateway in new[] { second, first })
        {
            var (back, _, answered) = await gateway.CreateClient().PostJsonAsync("/v1/chat/completions", ChatHi);
            Assert.Equal(HttpStatusCode.OK, back);
            Assert.Equal("pool/primary", answered.Headers.GetValues("x-mixproxy-upstream").Single());
        }

        Assert.Equal(3, pool["primary"].Calls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DestinationDown_IsSkipped_TheClientGetsOneCleanAnswer_AndTheDestinationGoesOutOfRotation(bool stream)
    {
        await using var pool = await UpstreamPool.StartAsync(["down", "up"], down: ["down"]);
        var cluster = pool.Cluster(
            new JsonObject { ["Cooldown"] = new JsonObject { ["FailureThreshold"] = 1, ["Failure"] = "00:01:00" } },
            name => new JsonObject { ["MixProxy.Priority"] = name == "down" ? "0" : "1" });
        await using var gateway = await GatewayAsync(pool, cluster);
        var client = gateway.CreateClient();

        var text = await AskAsync(client, stream);
        Assert.StartsWith("Hello from the MixProxy simulator. You said: Hi", text, StringComparison.Ordinal);

        // Out of rotation after its failure: the next request goes straight to the healthy destination.
        var state = await StatusAsync(gateway, "down");
        Assert.Equal("failures", state!["cooldown"]!["reason"]!.GetValue<string>());
        Assert.False(state["available"]!.GetValue<bool>());
        Assert.StartsWith("Hello from the MixProxy simulator", await AskAsync(client, stream), StringComparison.Ordinal);
        Assert.Equal(2, pool["up"].Calls);
        Assert.Contains(gateway.Logs.Lines, line => line.Contains("pool/down is out of rotation (Failure", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServerError_IsRetriedOnAHealthyDestination_AndTheClientSeesOnlyItsAnswer(bool stream)
    {
        await using var pool = await UpstreamPool.StartAsync(["flaky", "steady"]);
        var cluster = pool.Cluster(NoCooldownOnFirstFailure, name => new JsonObject { ["MixProxy.Priority"] = name == "flaky" ? "0" : "1" });
        await using var gateway = await GatewayAsync(pool, cluster);
        pool["flaky"].State.Enqueue(new ScriptedReply(503, """{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"""));

        var text = await AskAsync(gateway.CreateClient(), stream);

        Assert.Equal("Hello from the MixProxy simulator. You said: Hi", text);
        Assert.Equal(1, pool["flaky"].Calls);
        Assert.Equal(1, pool["steady"].Calls);

        // The same body reached both, the second time from the buffer the gateway kept.
        Assert.Equal(pool["flaky"].State.Received.Single().Body, pool["steady"].State.Received.Single().Body);
    }

    [Fact]
    public async Task UpstreamBreaksOffMidStream_TheStreamEndsWithAnErrorEvent_AndNothingIsRetried()
    {
        await using var pool = await UpstreamPool.StartAsync(["breaks", "spare"]);
        var cluster = pool.Cluster(new JsonObject { ["Retries"] = new JsonObject { ["Count"] = 3 } }, name => new JsonObject { ["MixProxy.Priority"] = name == "breaks" ? "0" : "1" });
        await using var gateway = await GatewayAsync(pool, cluster);
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        pool["breaks"].State.Enqueue(new ScriptedReply(
            Events: ["""{"candidates":[{"content":{"role":"model","parts":[{"text":"Half an "}]}}]}""", """{"candidates":[{"content":{"role":"model","parts":[{"text":"answer"}]}}]}"""],
            EventDelimiter: "\n\n")
        {
            AbortAfterEvents = 2,
            BeforeEvent = n => n == 2 ? seen.Task : Task.CompletedTask,
        });

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(ChatHi.Replace("\"messages\"", "\"stream\":true,\"messages\"", StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json") };
        using var response = await gateway.CreateClient().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var lines = new List<string>();
        while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
        {
            lines.Add(line);
            if (line.Contains("answer", StringComparison.Ordinal))
            {
                seen.TrySetResult();
            }
        }

        var body = string.Join('\n', lines);
        Assert.Equal(1, CountOf(body, "Half an "));
        Assert.Equal(1, CountOf(body, "\"answer\""));
        Assert.Contains("\"error\"", lines.Last(l => l.StartsWith("data: {", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(0, pool["spare"].Calls);
    }

    [Fact]
    public async Task Fallback_ToAGemini3ModelOnTheOtherProtocol_TranslatesTheAnswer_AndSendsTheBypassInsteadOfTheFirstEndpointsSignature()
    {
        // The model is served by an OpenAI-compatible endpoint (as Google's own is, for Gemini 3), with a Gemini-protocol
        // Gemini 3 model as its fallback: an OpenAI client's tool-call turn whose signature came from the first.
        await using var pool = await UpstreamPool.StartAsync(["compat", "gemini"]);
        await using var gateway = await GatewayWithClusterPerDestinationAsync(pool, models =>
        {
            models.Add(new JsonObject { ["Name"] = "agent", ["Cluster"] = "compat", ["Protocols"] = new JsonArray("OpenAI"), ["Fallbacks"] = new JsonArray("agent-on-gemini") });
            models.Add(new JsonObject { ["Name"] = "agent-on-gemini", ["Cluster"] = "gemini", ["UpstreamModel"] = Gemini3, ["Protocols"] = new JsonArray("Gemini"), ["Thinking"] = new JsonObject { ["Style"] = "Level" } });
        });
        var client = gateway.CreateClient();

        // Turn one: the first endpoint calls a tool, with its own signature.
        pool["compat"].State.Enqueue(new ScriptedReply(Body: """
            {"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gemini-3-compat","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
             "tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"},"extra_content":{"google":{"thought_signature":"c2lnLWZyb20tdGhlLWZpcnN0LWVuZHBvaW50"}}}]}}],
             "usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}
            """));
        const string tools = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""";
        var (_, turnOne, _) = await client.PostJsonAsync("/v1/chat/completions", $$"""{"model":"agent","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":{{tools}}}""");
        var call = turnOne!["choices"]![0]!["message"]!["tool_calls"]![0]!;

        // Turn two: the first endpoint is out of quota; the fallback answers, in the client's protocol.
        pool["compat"].State.Enqueue(new ScriptedReply(429, """{"error":{"message":"Rate limit reached","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}""") { Headers = new Dictionary<string, string> { ["Retry-After"] = "30" } });
        var history = new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = "Weather in Paris?" },
            new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(call.DeepClone()) },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "{\"temperature\":21}" });
        var (status, turnTwo, response) = await client.PostJsonAsync("/v1/chat/completions", new JsonObject { ["model"] = "agent", ["messages"] = history, ["tools"] = JsonNode.Parse(tools) }.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("chat.completion", turnTwo!["object"]!.GetValue<string>());
        Assert.StartsWith("Hello from the MixProxy simulator", turnTwo["choices"]![0]!["message"]!["content"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("agent-on-gemini", response.Headers.GetValues("x-mixproxy-model").Single());
        Assert.Equal("gemini/gemini", response.Headers.GetValues("x-mixproxy-upstream").Single());

        var sent = pool["gemini"].State.Received.Single();
        Assert.Contains($"/models/{Gemini3}:generateContent", sent.Path, StringComparison.Ordinal);
        var parts = JsonNode.Parse(sent.Body)!["contents"]![1]!["parts"]!.AsArray();
        Assert.Equal("get_weather", parts[0]!["functionCall"]!["name"]!.GetValue<string>());
        Assert.Equal("skip_thought_signature_validator", parts[0]!["thoughtSignature"]!.GetValue<string>());
        Assert.DoesNotContain("c2lnLWZyb20tdGhlLWZpcnN0LWVuZHBvaW50", sent.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GeminiClient_FallsBackToAnOpenAIProtocolModel_AndGetsTheAnswerInGooglesShape()
    {
        await using var pool = await UpstreamPool.StartAsync(["google", "backup"], down: ["google"]);
        await using var gateway = await GatewayWithClusterPerDestinationAsync(pool, models =>
        {
            models[0]!["Cluster"] = "google";
            models[0]!["Fallbacks"] = new JsonArray("backup-gpt");
            models.Add(new JsonObject { ["Name"] = "backup-gpt", ["Cluster"] = "backup", ["UpstreamModel"] = "gpt-4.1", ["Protocols"] = new JsonArray("OpenAI") });
        });

        var (status, body, response) = await gateway.CreateClient().PostJsonAsync(GenerateContent, GeminiHi);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("Hello from the MixProxy simulator", body!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("backup-gpt", response.Headers.GetValues("x-mixproxy-model").Single());
        var sent = JsonNode.Parse(pool["backup"].State.Received.Single().Body)!;
        Assert.Equal("gpt-4.1", sent["model"]!.GetValue<string>());
        Assert.Equal("user", sent["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Contains("\"Hi\"", sent["messages"]![0]!["content"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GeminiPassthrough_FallingBackToAnotherGeminiEndpoint_ReplacesTheFirstEndpointsSignatures()
    {
        await using var pool = await UpstreamPool.StartAsync(["mix", "google"]);
        await using var gateway = await GatewayWithClusterPerDestinationAsync(pool, models =>
        {
            models[0]!["Cluster"] = "mix";
            models[0]!["Fallbacks"] = new JsonArray("gemini-on-google");
            models.Add(new JsonObject { ["Name"] = "gemini-on-google", ["Cluster"] = "google", ["UpstreamModel"] = Gemini3, ["Thinking"] = new JsonObject { ["Style"] = "Level" } });
        });
        pool["mix"].State.Enqueue(new ScriptedReply(503, """{"error":{"code":503,"message":"Overloaded.","status":"UNAVAILABLE"}}"""));
        const string history = """
            {"contents":[{"role":"user","parts":[{"text":"Weather in Paris?"}]},
             {"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2lnLWZyb20tbWl4"}]},
             {"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temperature":21}}}]}]}
            """;

        var (status, _, response) = await gateway.CreateClient().PostJsonAsync(GenerateContent, history);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("gemini-on-google", response.Headers.GetValues("x-mixproxy-model").Single());
        Assert.Contains("c2lnLWZyb20tbWl4", pool["mix"].State.Received.Single().Body, StringComparison.Ordinal);
        var sent = pool["google"].State.Received.Single().Body;
        Assert.DoesNotContain("c2lnLWZyb20tbWl4", sent, StringComparison.Ordinal);
        Assert.Equal("skip_thought_signature_validator", JsonNode.Parse(sent)!["contents"]![1]!["parts"]![0]!["thoughtSignature"]!.GetValue<string>());
    }

    [Fact]
    public async Task TotalTimeout_BoundsTheWholeCall_TheClientGets504()
    {
        await using var pool = await UpstreamPool.StartAsync(["slow"]);
        pool["slow"].Options.FirstByteDelay = TimeSpan.FromSeconds(5);
        await using var gateway = await GatewayAsync(pool, pool.Cluster(new JsonObject { ["Timeouts"] = new JsonObject { ["Total"] = "00:00:00.400" } }));

        var started = Stopwatch.GetTimestamp();
        var (status, body, _) = await gateway.CreateClient().PostJsonAsync("/v1/chat/completions", ChatHi);

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        HttpHelpers.AssertOpenAIError(body);
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(3));
    }

    /// <summary>Google answers a bad key with 400 <c>API_KEY_INVALID</c>, OpenAI with 401 <c>invalid_api_key</c>.</summary>
    [Theory]
    [InlineData(GenerateContent, GeminiHi)]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""")]
    public async Task KeyRefusedByTheUpstream_TakesOnlyThatKeyOut_UntilAnOperatorResetsIt(string path, string request)
    {
        await using var pool = await UpstreamPool.StartAsync(["revoked", "valid"]);
        var cluster = pool.Cluster(metadata: name => new JsonObject { ["MixProxy.Priority"] = name == "revoked" ? "0" : "1" });
        var environment = new Dictionary<string, string>(pool.Environment) { ["KEY_REVOKED"] = "a-key-the-upstream-revoked" };
        await using var gateway = await GatewayFixture.StartAsync(config => UsePool(config, cluster), environment: environment);
        var client = gateway.CreateClient();

        // The client never sees the refusal: the next key answers.
        for (var i = 0; i < 3; i++)
        {
            var (status, _, _) = await client.PostJsonAsync(path, request);
            Assert.Equal(HttpStatusCode.OK, status);
        }

        Assert.Equal(1, pool["revoked"].Calls);
        Assert.Equal(3, pool["valid"].Calls);
        var state = await StatusAsync(gateway, "revoked");
        Assert.Equal("credential_rejected", state!["cooldown"]!["reason"]!.GetValue<string>());
        Assert.True(state["cooldown"]!["untilReset"]!.GetValue<bool>());
        Assert.True((await StatusAsync(gateway, "valid"))!["available"]!.GetValue<bool>());
        Assert.Contains(gateway.Logs.Lines, line => line.Contains("pool/revoked refused the gateway's credential", StringComparison.Ordinal));

        // An operator's reset puts it back (here it is still revoked, so it goes straight out again).
        using var reset = await gateway.CreateClient(key: null).PostAsync("/admin/upstreams/pool/revoked/reset", null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.True((await StatusAsync(gateway, "revoked"))!["available"]!.GetValue<bool>());
        await client.PostJsonAsync(path, request);
        Assert.Equal(2, pool["revoked"].Calls);
    }

    [Fact]
    public async Task EveryDestinationCoolingDownOnQuota_TheClientGets429WithTheEarliestRetryAfter_WithoutAnUpstreamCall()
    {
        await using var pool = await UpstreamPool.StartAsync(["a", "b"]);
        await using var gateway = await GatewayAsync(pool, pool.Cluster(metadata: name => new JsonObject { ["MixProxy.Priority"] = name == "a" ? "0" : "1" }));
        pool["a"].State.Enqueue(new ScriptedReply(429, """{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"40s"}]}}"""));
        pool["b"].State.Enqueue(new ScriptedReply(429, """{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED"}}""") { Headers = new Dictionary<string, string> { ["Retry-After"] = "20" } });
        var client = gateway.CreateClient();

        // Both spent: the last upstream's error reaches the client, with the moment the first destination is back.
        var (status, body, response) = await client.PostJsonAsync("/v1/chat/completions", ChatHi);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        HttpHelpers.AssertOpenAIError(body, "rate_limit_exceeded");
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 19, 20);

        // Until then nothing is sent upstream: the gateway answers at once, in each client's protocol.
        var (again, againBody, againResponse) = await client.PostJsonAsync("/v1/chat/completions", ChatHi);
        Assert.Equal(HttpStatusCode.TooManyRequests, again);
        HttpHelpers.AssertOpenAIError(againBody);
        Assert.InRange(againResponse.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 18, 20);
        var (gemini, geminiBody, _) = await client.PostJsonAsync(GenerateContent, GeminiHi);
        Assert.Equal(HttpStatusCode.TooManyRequests, gemini);
        HttpHelpers.AssertGoogleError(geminiBody, 429, "RESOURCE_EXHAUSTED");
        Assert.Equal(1, pool["a"].Calls);
        Assert.Equal(1, pool["b"].Calls);
    }

    [Fact]
    public async Task EveryDestinationDown_TheClientGets503WithRetryAfter()
    {
        await using var pool = await UpstreamPool.StartAsync(["a", "b"], down: ["a", "b"]);
        await using var gateway = await GatewayAsync(pool, pool.Cluster(new JsonObject { ["Cooldown"] = new JsonObject { ["FailureThreshold"] = 1, ["Failure"] = "00:00:30" } }));
        var client = gateway.CreateClient();

        var (first, _, _) = await client.PostJsonAsync("/v1/chat/completions", ChatHi);
        Assert.Equal(HttpStatusCode.BadGateway, first);

        var (status, body, response) = await client.PostJsonAsync("/v1/chat/completions", ChatHi);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        HttpHelpers.AssertOpenAIError(body);
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 28, 30);
    }

    [Fact]
    public async Task EveryDestinationFailing_AttemptsAreBoundedByDestinationsPlusRetries_NoStorm()
    {
        await using var pool = await UpstreamPool.StartAsync(["a", "b", "c"]);
        foreach (var destination in pool.All.Values)
        {
            destination.Options.ErrorRate = 1;
            destination.Options.InjectedErrorStatus = 503;
        }

        var resilience = new JsonObject
        {
            ["Retries"] = new JsonObject { ["Count"] = 2, ["Backoff"] = "00:00:00.010", ["MaxBackoff"] = "00:00:00.050" },
            ["Cooldown"] = new JsonObject { ["FailureThreshold"] = 100 },
        };
        await using var gateway = await GatewayAsync(pool, pool.Cluster(resilience));
        var client = gateway.CreateClient();

        // Ten clients at once: each makes one try per destination plus two retries, then gets the upstream's 503.
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.PostJsonAsync("/v1/chat/completions", ChatHi)));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status));
        Assert.Equal(10 * (3 + 2), pool.All.Values.Sum(d => d.Calls));
    }

    [Fact]
    public async Task NoFirstByteWithinTheTimeout_IsRetriedOnAnotherDestination()
    {
        await using var pool = await UpstreamPool.StartAsync(["slow", "quick"]);
        pool["slow"].Options.FirstByteDelay = TimeSpan.FromSeconds(5);
        var cluster = pool.Cluster(
            new JsonObject { ["Timeouts"] = new JsonObject { ["FirstByte"] = "00:00:00.500" } },
            name => new JsonObject { ["MixProxy.Priority"] = name == "slow" ? "0" : "1" });
        await using var gateway = await GatewayAsync(pool, cluster);

        var started = Stopwatch.GetTimestamp();
        foreach (var stream in new[] { false, true })
        {
            Assert.StartsWith("Hello from the MixProxy simulator", await AskAsync(gateway.CreateClient(), stream), StringComparison.Ordinal);
        }

        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(4), "the slow destination was waited out");
        Assert.Equal(2, pool["quick"].Calls);
    }

    [Fact]
    public async Task WhenEveryDestinationTimesOut_TheClientGets504InItsProtocol()
    {
        await using var pool = await UpstreamPool.StartAsync(["slow"]);
        pool["slow"].Options.FirstByteDelay = TimeSpan.FromSeconds(5);
        await using var gateway = await GatewayAsync(pool, pool.Cluster(new JsonObject { ["Timeouts"] = new JsonObject { ["FirstByte"] = "00:00:00.300" } }));

        var (status, body, _) = await gateway.CreateClient().PostJsonAsync(GenerateContent, GeminiHi);

        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        HttpHelpers.AssertGoogleError(body, 504, "DEADLINE_EXCEEDED");
    }

    [Fact]
    public async Task QuotaGroup_OneDestinationsQuotaErrorCoolsEveryDestinationSharingItsQuota()
    {
        await using var pool = await UpstreamPool.StartAsync(["p1-eu", "p1-us", "p2"]);
        var cluster = pool.Cluster(metadata: name => new JsonObject
        {
            ["MixProxy.Priority"] = name == "p2" ? "1" : "0",
            ["MixProxy.QuotaGroup"] = name.StartsWith("p1", StringComparison.Ordinal) ? "project-1" : "project-2",
        });
        await using var gateway = await GatewayAsync(pool, cluster);
        foreach (var name in new[] { "p1-eu", "p1-us" })
        {
            pool[name].State.Enqueue(new ScriptedReply(429, """{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED"}}""") { Headers = new Dictionary<string, string> { ["Retry-After"] = "60" } });
        }

        var (_, _, response) = await gateway.CreateClient().PostJsonAsync("/v1/chat/completions", ChatHi);

        // The 429 of one region of project 1 spares the other region (same quota): the answer comes from project 2.
        Assert.Equal("pool/p2", response.Headers.GetValues("x-mixproxy-upstream").Single());
        Assert.Equal(1, pool["p1-eu"].Calls + pool["p1-us"].Calls);
        Assert.Equal("quota_group", (await StatusAsync(gateway, pool["p1-eu"].Calls == 1 ? "p1-us" : "p1-eu"))!["cooldown"]!["scope"]!.GetValue<string>());
    }

    [Fact]
    public async Task Weights_ShareTheTrafficOfATier()
    {
        await using var pool = await UpstreamPool.StartAsync(["heavy", "light"]);
        await using var gateway = await GatewayAsync(pool, pool.Cluster(metadata: name => new JsonObject { ["MixProxy.Weight"] = name == "heavy" ? "3" : "1" }));
        var client = gateway.CreateClient();

        for (var i = 0; i < 200; i++)
        {
            await client.PostJsonAsync(GenerateContent, GeminiHi);
        }

        // 3:1 is 150 of 200; the bounds are more than four standard deviations away.
        Assert.InRange(pool["heavy"].Calls, 120, 180);
        Assert.Equal(200, pool["heavy"].Calls + pool["light"].Calls);
    }

    [Fact]
    public async Task ActiveProbes_CarryEachDestinationsKey_AndTakeOutTheOneWhoseProbesFail()
    {
        await using var pool = await UpstreamPool.StartAsync(["revoked", "valid"]);
        var cluster = pool.Cluster();
        cluster["HealthCheck"] = new JsonObject
        {
            ["Active"] = new JsonObject { ["Enabled"] = true, ["Interval"] = "00:00:00.200", ["Timeout"] = "00:00:02", ["Policy"] = "ConsecutiveFailures", ["Path"] = "/v1beta/models" },
        };
        var environment = new Dictionary<string, string>(pool.Environment) { ["KEY_REVOKED"] = "a-key-the-upstream-revoked" };
        await using var gateway = await GatewayFixture.StartAsync(config => UsePool(config, cluster), environment: environment);

        await WaitUntilAsync(async () => (await StatusAsync(gateway, "revoked"))?["activeHealth"]?.GetValue<string>() == "Unhealthy", TimeSpan.FromSeconds(10));
        var probe = pool["valid"].State.Received.First(r => r.Method == "GET");
        Assert.Equal("/v1beta/models", probe.Path);
        Assert.Equal("Bearer key-of-valid", probe.Headers["authorization"]);
        Assert.True((await StatusAsync(gateway, "valid"))!["available"]!.GetValue<bool>());
        Assert.False((await StatusAsync(gateway, "revoked"))!["available"]!.GetValue<bool>());

        // Requests go only where probes succeed.
        for (var i = 0; i < 4; i++)
        {
            var (status, _, response) = await gateway.CreateClient().PostJsonAsync(GenerateContent, GeminiHi);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("pool/valid", response.Headers.GetValues("x-mixproxy-upstream").Single());
        }

        Assert.DoesNotContain(pool["revoked"].State.Received, r => r.Method == "POST");
    }

    private static Task<GatewayFixture> GatewayAsync(UpstreamPool pool, JsonObject cluster, string? redis = null) =>
        GatewayFixture.StartAsync(config => UsePool(config, cluster), redis, environment: pool.Environment);

    /// <summary>The default test config with the Gemini 3 model and the OpenAI models served by the pool's cluster.</summary>
    private static void UsePool(JsonObject config, JsonObject cluster)
    {
        config["ReverseProxy"]!["Clusters"]!["pool"] = cluster.DeepClone();
        foreach (var model in config["Models"]!.AsArray())
        {
            if (model!["Name"]!.GetValue<string>() is Gemini3 or "gpt-*")
            {
                model["Cluster"] = "pool";
            }
        }
    }

    /// <summary>A gateway with one cluster per destination of the pool, named after it, and the model map as <paramref name="models"/> changes it.</summary>
    private static Task<GatewayFixture> GatewayWithClusterPerDestinationAsync(UpstreamPool pool, Action<JsonArray> models) =>
        GatewayFixture.StartAsync(
            config =>
            {
                var clusters = config["ReverseProxy"]!["Clusters"]!.AsObject();
                foreach (var name in pool.All.Keys)
                {
                    clusters[name] = Only(pool, name);
                }

                models(config["Models"]!.AsArray());
            },
            environment: pool.Environment);

    private static JsonObject Only(UpstreamPool pool, string name)
    {
        var cluster = pool.Cluster();
        var destinations = cluster["Destinations"]!.AsObject();
        foreach (var other in destinations.Select(d => d.Key).Where(k => k != name).ToList())
        {
            destinations.Remove(other);
        }

        return cluster;
    }

    /// <summary>Asks the Gemini 3 model "Hi" as an OpenAI client, streamed or not, and returns the answer's text.</summary>
    private static async Task<string> AskAsync(HttpClient client, bool stream)
    {
        if (!stream)
        {
            var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", ChatHi);
            Assert.Equal(HttpStatusCode.OK, status);
            return body!["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(ChatHi.Replace("\"messages\"", "\"stream\":true,\"messages\"", StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = new System.Text.StringBuilder();
        foreach (var line in (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Split('\n'))
        {
            if (line.StartsWith("data: {", StringComparison.Ordinal))
            {
                var chunk = JsonNode.Parse(line["data: ".Length..])!;
                Assert.Null(chunk["error"]);
                text.Append(chunk["choices"]?[0]?["delta"]?["content"]?.GetValue<string>());
            }
        }

        return text.ToString();
    }

    /// <summary>A destination of the pool as <c>GET /admin/upstreams</c> reports it.</summary>
    private static async Task<JsonNode?> StatusAsync(GatewayFixture gateway, string destination)
    {
        var (status, body) = await gateway.CreateClient(key: null).GetJsonAsync("/admin/upstreams");
        Assert.Equal(HttpStatusCode.OK, status);
        return body!["clusters"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "pool")!["destinations"]!.AsArray().Single(d => d!["id"]!.GetValue<string>() == destination);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(1);
        var started = Stopwatch.GetTimestamp();
        while (!await condition() && Stopwatch.GetElapsedTime(started) < limit)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.True(await condition(), $"the condition did not hold within {limit.TotalSeconds} s");
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;
}
