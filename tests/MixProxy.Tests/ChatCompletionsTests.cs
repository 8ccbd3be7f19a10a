using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace MixProxy.Tests;

/// <summary>OpenAI Chat Completions clients against a Gemini upstream, through the gateway, with the official OpenAI .NET SDK.</summary>
public sealed class ChatCompletionsTests
{
    private static ChatClient Sdk(GatewayFixture gateway, string model = "gemini-3.1-pro-preview") =>
        new(model, new ApiKeyCredential(GatewayFixture.ClientKey), new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseAddress, "/v1") });

    [Fact]
    public async Task CompleteChat_OpenAISdkOnGeminiUpstream_TranslatesBothWays()
    {
        await using var gateway = await GatewayFixture.StartAsync();

        ChatCompletion completion = await Sdk(gateway).CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("Hello")],
            new ChatCompletionOptions { Temperature = 0.5f, MaxOutputTokenCount = 64 },
            TestContext.Current.CancellationToken);

        Assert.Equal("Hello from the MixProxy simulator. You said: Hello", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("gemini-3.1-pro-preview", completion.Model);
        Assert.Equal(8, completion.Usage.OutputTokenCount);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);

        var upstream = Assert.Single(gateway.Upstream.Received);
        Assert.Equal("/v1beta/models/gemini-3.1-pro-preview:generateContent", upstream.Path);
        Assert.Equal("Bearer " + GatewayFixture.UpstreamSecret, upstream.Headers["authorization"]);
        var body = JsonNode.Parse(upstream.Body)!;
        Assert.Equal("Be brief.", body["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(0.5, body["generationConfig"]!["temperature"]!.GetValue<double>());
        Assert.Equal(64, body["generationConfig"]!["maxOutputTokens"]!.GetValue<int>());
        Assert.Null(body["model"]);
    }

    [Fact]
    public async Task CompleteChatStreaming_OpenAISdkOnGeminiUpstream_StreamsChunksUsageAndFinish()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;

        await foreach (var update in Sdk(gateway).CompleteChatStreamingAsync([new UserChatMessage("Stream please")], cancellationToken: TestContext.Current.CancellationToken))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal("Hello from the MixProxy simulator. You said: Stream please", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(9, usage.OutputTokenCount);
        var upstream = Assert.Single(gateway.Upstream.Received);
        Assert.Equal("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent", upstream.Path);
        Assert.Equal("?alt=sse", upstream.Query);
    }

    [Fact]
    public async Task Streaming_EachUpstreamEvent_ReachesTheClientBeforeTheNextIsSent()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        var released = new[] { new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource() };
        released[0].SetResult();
        gateway.Upstream.Enqueue(new ScriptedReply(Events:
        [
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"one "}]}}]}""",
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"two "}]}}]}""",
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"three"}]},"finishReason":"STOP"}]}""",
        ])
        { BeforeEvent = i => released[i].Task });
        var seen = new List<string>();

        // The upstream sends event N+1 only after the client has received event N: a gateway that buffered
        // the stream would never deliver the first chunk, and the test would time out.
        await foreach (var update in Sdk(gateway).CompleteChatStreamingAsync([new UserChatMessage("x")], cancellationToken: TestContext.Current.CancellationToken))
        {
            foreach (var part in update.ContentUpdate)
            {
                seen.Add(part.Text);
                if (seen.Count < released.Length)
                {
                    released[seen.Count].TrySetResult();
                }
            }
        }

        Assert.Equal(["one ", "two ", "three"], seen);
    }

    [Fact]
    public async Task CompleteChat_SeedRequestWithWebSearchAndReasoningEffort_SendsGoogleSearchAndThinkingLevel()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", """
            {"model":"gemini-3.1-pro-preview","messages":[{"content":"Hello","role":"user"}],"stream":false,"reasoning_effort":"low",
             "tools":[{"function":{"name":"web_search"},"type":"function"}]}
            """);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("chat.completion", body!["object"]!.GetValue<string>());
        Assert.Equal(body["choices"]![0]!["message"]!["content"]!.GetValue<string>(), body["output"]!["text"]!.GetValue<string>());
        var upstream = JsonNode.Parse(Assert.Single(gateway.Upstream.Received).Body)!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"googleSearch":{}}]"""), upstream["tools"]));
        Assert.Equal("low", upstream["generationConfig"]!["thinkingConfig"]!["thinkingLevel"]!.GetValue<string>());
    }

    [Fact]
    public async Task CompleteChat_RouteWithOutputTextOff_OmitsOutputField()
    {
        await using var gateway = await GatewayFixture.StartAsync(config =>
            config["ReverseProxy"]!["Routes"]!["openai-chat"]!["Metadata"]!["MixProxy.OutputText"] = "false");
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(body!["output"]);
    }

    [Fact]
    public async Task CompleteChat_UntranslatableField_Returns400NamingTheFieldAndCallsNoUpstream()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"presence_penalty":1}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertOpenAIError(body);
        Assert.Equal("presence_penalty", body!["error"]!["param"]!.GetValue<string>());
        Assert.Empty(gateway.Upstream.Received);
    }

    [Theory]
    [InlineData("{not json", null)]
    [InlineData("[1,2]", null)]
    [InlineData("""{"messages":[{"role":"user","content":"Hi"}]}""", "model")]
    [InlineData("""{"model":"gemini-3.1-pro-preview","messages":[],"stream":"yes"}""", "stream")]
    public async Task CompleteChat_MalformedBody_Returns400InOpenAIShape(string json, string? param)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertOpenAIError(body);
        Assert.Equal(param, body!["error"]!["param"]?.GetValue<string>());
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task CompleteChat_OpenAIUpstream_PassesBodyThroughUntouched()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        const string Json = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"logit_bias":{"50256":-100},"user":"u1"}""";

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", Json);

        Assert.Equal(HttpStatusCode.OK, status);
        var upstream = Assert.Single(gateway.Upstream.Received);
        Assert.Equal("/v1/chat/completions", upstream.Path);
        Assert.Equal(Json, upstream.Body);
        Assert.Equal("Bearer " + GatewayFixture.UpstreamSecret, upstream.Headers["authorization"]);
        Assert.Equal("gpt-4o-mini", body!["model"]!.GetValue<string>());
        Assert.Equal(body["choices"]![0]!["message"]!["content"]!.GetValue<string>(), body["output"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task CompleteChatStreaming_OpenAIUpstream_PassesEventsThroughWithOneDone()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, _, response) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}""");
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/event-stream", response.ContentType()?.MediaType);
        Assert.Equal(1, text.Split("data: [DONE]").Length - 1);
        Assert.Contains("\"chat.completion.chunk\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompleteChat_AliasedModel_SendsTheUpstreamNameAndEchoesTheClientName()
    {
        await using var gateway = await GatewayFixture.StartAsync();

        ChatCompletion completion = await Sdk(gateway, "alias-flash").CompleteChatAsync([new UserChatMessage("Hi")], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("alias-flash", completion.Model);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:generateContent", Assert.Single(gateway.Upstream.Received).Path);
    }

    [Fact]
    public async Task Streaming_ClientDisconnects_GatewayCancelsTheUpstreamCall()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"long"}],"stream":true}""", System.Text.Encoding.UTF8, "application/json"),
        };
        var never = new TaskCompletionSource();
        gateway.Upstream.Enqueue(new ScriptedReply(Events:
        [
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"first"}]}}]}""",
            """{"responseId":"r","candidates":[{"content":{"role":"model","parts":[{"text":"never sent"}]},"finishReason":"STOP"}]}""",
        ])
        { BeforeEvent = i => i == 0 ? Task.CompletedTask : never.Task });

        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken))
        {
            await using var stream = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
            var buffer = new byte[256];
            Assert.True(await stream.ReadAsync(buffer, TestContext.Current.CancellationToken) > 0);
        }

        // The client hung up after the first event of a stream that would never end: the upstream call must end too.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (gateway.Upstream.Aborted == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(1, gateway.Upstream.Aborted);
    }
}
