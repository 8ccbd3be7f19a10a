using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Anthropic.Helpers;
using Anthropic.Models.Messages;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// The official .NET <c>Anthropic</c> SDK against the gateway, configured as a new user would (base URL and key): on a
/// Gemini 3 model (translated; its upstream refuses a tool loop that lost the call's thought signature), on a model
/// served by Chat Completions, and on one served by an Anthropic upstream (passed through; the simulator checks what
/// Anthropic checks, thinking signatures included). What the upstream received is checked too: the SDK cannot see it.
/// </summary>
public sealed class AnthropicSdkTests
{
    public const string Gemini = "gemini-3.1-pro-preview";
    public const string Gpt = "gpt-4o-mini";
    public const string Claude = "claude-sonnet-5-5";

    private static readonly Tool Weather = new()
    {
        Name = "get_weather",
        Description = "The weather in a city",
        InputSchema = new InputSchema
        {
            Properties = new Dictionary<string, JsonElement> { ["query"] = JsonSerializer.SerializeToElement(new { type = "string" }) },
            Required = ["query"],
        },
    };

    /// <summary>
    /// The test config plus an Anthropic-protocol upstream: the simulator again, as a cluster whose key goes in
    /// <c>x-api-key</c> and that forwards the client's <c>anthropic-*</c> headers (the passthrough sends
    /// <c>anthropic-version</c> only where the cluster forwards it), serving the <c>claude-*</c> models.
    /// </summary>
    internal static void AddAnthropicUpstream(JsonObject config) => AddAnthropicUpstream(config, "x-simulator-*,anthropic-*");

    private static void AddAnthropicUpstream(JsonObject config, string forwardHeaders)
    {
        ArgumentNullException.ThrowIfNull(config);
        var simulator = config["ReverseProxy"]!["Clusters"]!["sim"]!["Destinations"]!["d1"]!["Address"]!.GetValue<string>();
        config["ReverseProxy"]!["Clusters"]!["sim-anthropic"] = new JsonObject
        {
            ["Destinations"] = new JsonObject { ["d1"] = new JsonObject { ["Address"] = simulator } },
            ["Metadata"] = new JsonObject { ["MixProxy.UpstreamAuth"] = "XApiKey", ["MixProxy.CredentialEnv"] = "TEST_UPSTREAM_KEY", ["MixProxy.ForwardHeaders"] = forwardHeaders },
        };
        config["Models"]!.AsArray().Add(new JsonObject { ["Name"] = "claude-*", ["Cluster"] = "sim-anthropic", ["Protocols"] = new JsonArray("Anthropic") });
    }

    [Theory]
    [InlineData(Gemini)]
    [InlineData(Gpt)]
    [InlineData(Claude)]
    public async Task Create_Text_IsAnAnthropicMessageWithUsage(string model)
    {
        await using var gateway = await StartAsync();
        using var client = Client(gateway);

        var message = await client.Messages.Create(
            new MessageCreateParams { Model = model, MaxTokens = 256, System = "Answer in one sentence.", Messages = [new UserMessageParam("Hello there")] },
            TestContext.Current.CancellationToken);

        Assert.StartsWith("msg_", message.ID, StringComparison.Ordinal);
        Assert.Equal(model, (string)message.Model);
        Assert.Equal("Hello from the MixProxy simulator. You said: Hello there", Text(message));
        Assert.Equal(StopReason.EndTurn, (StopReason)message.StopReason!);
        Assert.True(message.Usage.InputTokens > 0 && message.Usage.OutputTokens > 0, $"usage, got {message.Usage}");
        Assert.Contains("Answer in one sentence.", LastUpstreamBody(gateway, model).ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Gemini)]
    [InlineData(Gpt)]
    [InlineData(Claude)]
    public async Task CreateStreaming_TextDeltasAssembleIntoTheMessage(string model)
    {
        await using var gateway = await StartAsync();
        using var client = Client(gateway);
        var aggregator = new MessageContentAggregator();
        var text = new System.Text.StringBuilder();
        var deltas = 0;

        await foreach (var update in client.Messages.CreateStreaming(
            new MessageCreateParams { Model = model, MaxTokens = 256, Messages = [new UserMessageParam("Tell me a story")] },
            TestContext.Current.CancellationToken).CollectAsync(aggregator))
        {
            if (update.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var piece))
            {
                deltas++;
                text.Append(piece.Text);
            }
        }

        var message = aggregator.Message();
        Assert.True(deltas > 1, $"the text came in several deltas, got {deltas}");
        Assert.Equal("Hello from the MixProxy simulator. You said: Tell me a story", text.ToString());
        Assert.Equal(text.ToString(), Text(message));
        Assert.Equal(StopReason.EndTurn, (StopReason)message.StopReason!);
        Assert.True(message.Usage.InputTokens > 0 && message.Usage.OutputTokens > 0, $"usage, got {message.Usage}");
    }

    /// <summary>
    /// Turn 1 gets a tool call; turn 2 sends back the assistant turn as the SDK returned it and the tool's result. On
    /// Gemini 3 the upstream must see the very signature it issued with the call, or it refuses the request.
    /// </summary>
    [Theory]
    [InlineData(Gemini, false)]
    [InlineData(Gemini, true)]
    [InlineData(Gpt, false)]
    [InlineData(Claude, true)]
    public async Task ToolLoop_TheAssistantTurnSentBack_GivesTheUpstreamTheCallAndItsResult(string model, bool streamed)
    {
        await using var gateway = await StartAsync();
        using var client = Client(gateway);
        MessageParam question = new UserMessageParam("What is the weather in Paris?");
        var ask = new MessageCreateParams { Model = model, MaxTokens = 1024, Tools = [Weather], Messages = [question] };

        var first = streamed ? await client.Messages.CreateStreaming(ask, TestContext.Current.CancellationToken).Aggregate() : await client.Messages.Create(ask, TestContext.Current.CancellationToken);
        Assert.Equal(StopReason.ToolUse, (StopReason)first.StopReason!);
        var call = Assert.Single(first.Content.Select(b => b.TryPickToolUse(out var use) ? use : null).OfType<ToolUseBlock>());
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("weather in Paris", call.Input["query"].GetString());

        var second = await client.Messages.Create(ask with { Messages = [question, Replayed(first), ToolResult(call.ID, "sunny")] }, TestContext.Current.CancellationToken);

        Assert.Equal(StopReason.EndTurn, (StopReason)second.StopReason!);
        Assert.Equal("Hello from the MixProxy simulator. You said: tool result sunny", Text(second));
        var turn2 = LastUpstreamBody(gateway, model);
        if (model == Gemini)
        {
            var contents = turn2["contents"]!.AsArray();
            var step = contents.Single(c => c!["role"]!.GetValue<string>() == "model")!["parts"]!.AsArray();
            var functionCall = step.First(p => p!["functionCall"] is not null)!;
            Assert.Equal("get_weather", functionCall["functionCall"]!["name"]!.GetValue<string>());
            Assert.Equal(Assert.Single(gateway.Upstream.IssuedThoughtSignatures), functionCall["thoughtSignature"]!.GetValue<string>());
            Assert.Equal("sunny", contents[^1]!["parts"]![0]!["functionResponse"]!["response"]!["output"]!.GetValue<string>());
        }
        else if (model == Gpt)
        {
            var messages = turn2["messages"]!.AsArray();
            var toolCall = Assert.Single(messages.Single(m => m!["role"]!.GetValue<string>() == "assistant")!["tool_calls"]!.AsArray())!;
            Assert.Equal("get_weather", toolCall["function"]!["name"]!.GetValue<string>());
            Assert.Equal(toolCall["id"]!.GetValue<string>(), messages[^1]!["tool_call_id"]!.GetValue<string>());
            Assert.Equal("sunny", messages[^1]!["content"]!.GetValue<string>());
        }
        else
        {
            Assert.Equal(call.ID, turn2["messages"]![1]!["content"]![0]!["id"]!.GetValue<string>());
        }
    }

    /// <summary>Extended thinking (<c>enabled</c> with a budget) on Gemini 3 becomes the model's thinking level.</summary>
    [Fact]
    public async Task ExtendedThinking_OnGemini3_AsksTheUpstreamToThink()
    {
        await using var gateway = await StartAsync();
        using var client = Client(gateway);

        var message = await client.Messages.Create(
            new MessageCreateParams { Model = Gemini, MaxTokens = 4096, Thinking = new ThinkingConfigEnabled(2048), Messages = [new UserMessageParam("Think about it")] },
            TestContext.Current.CancellationToken);

        Assert.Equal("Hello from the MixProxy simulator. You said: Think about it", Text(message));
        var thinkingConfig = LastUpstreamBody(gateway, Gemini)["generationConfig"]?["thinkingConfig"];
        Assert.NotNull(thinkingConfig);
        Assert.Contains(thinkingConfig["thinkingLevel"]?.GetValue<string>(), new[] { "low", "high" });
    }

    /// <summary>
    /// Extended thinking passed through: the answer starts with a signed thinking block, and a tool loop that sends it
    /// back unaltered goes on (the simulator, as Anthropic, refuses one without it or with its text changed).
    /// </summary>
    [Fact]
    public async Task ExtendedThinking_PassedThrough_ASignedThinkingBlockThatAToolLoopSendsBack()
    {
        await using var gateway = await StartAsync();
        using var client = Client(gateway);
        MessageParam question = new UserMessageParam("What is the weather in Paris?");
        var ask = new MessageCreateParams { Model = Claude, MaxTokens = 4096, Thinking = new ThinkingConfigEnabled(2048), Tools = [Weather], Messages = [question] };

        var first = await client.Messages.CreateStreaming(ask, TestContext.Current.CancellationToken).Aggregate();
        Assert.True(first.Content[0].TryPickThinking(out var thinking), $"a thinking block first, got {string.Join(", ", first.Content.Select(b => b.Json.GetProperty("type").GetString()))}");
        Assert.Contains("What is the weather in Paris?", thinking.Thinking, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(thinking.Signature));
        Assert.True(first.Content[1].TryPickToolUse(out var call));

        var second = await client.Messages.Create(ask with { Messages = [question, Replayed(first), ToolResult(call.ID, "sunny")] }, TestContext.Current.CancellationToken);

        Assert.True(second.Content[0].TryPickThinking(out _));
        Assert.Equal("Hello from the MixProxy simulator. You said: tool result sunny", Text(second));
    }

    [Theory]
    [InlineData(Gemini)]
    [InlineData(Claude)]
    public async Task UpstreamRateLimit_IsTheSdksRateLimitException(string model)
    {
        await using var gateway = await StartAsync();
        using var client = Client(gateway);
        var limited = client.WithOptions(o => o with { ExtraHeaders = new Dictionary<string, string> { ["x-simulator-error"] = "429" } });

        var refused = await Assert.ThrowsAsync<AnthropicRateLimitException>(() => limited.Messages.Create(
            new MessageCreateParams { Model = model, MaxTokens = 64, Messages = [new UserMessageParam("Hi")] },
            TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("rate_limit_error", JsonNode.Parse(refused.ResponseBody)!["error"]!["type"]!.GetValue<string>());
    }

    /// <summary>Anthropic's own overload status (529) comes back through the passthrough as the SDK's overloaded error.</summary>
    [Fact]
    public async Task UpstreamOverloaded_PassedThrough_IsTheSdksOverloadedException()
    {
        await using var gateway = await StartAsync();
        using var client = Client(gateway);
        var overloaded = client.WithOptions(o => o with { ExtraHeaders = new Dictionary<string, string> { ["x-simulator-error"] = "529" } });

        var refused = await Assert.ThrowsAsync<AnthropicOverloadedException>(() => overloaded.Messages.Create(
            new MessageCreateParams { Model = Claude, MaxTokens = 64, Messages = [new UserMessageParam("Hi")] },
            TestContext.Current.CancellationToken));

        Assert.Equal("overloaded_error", JsonNode.Parse(refused.ResponseBody)!["error"]!["type"]!.GetValue<string>());
    }

    /// <summary>An upstream stream that ends in Anthropic's <c>error</c> event reaches the SDK as an error, after the text before it.</summary>
    [Fact]
    public async Task StreamEndingInAnErrorEvent_PassedThrough_IsAnErrorInTheSdk()
    {
        await using var gateway = await StartAsync();
        using var client = Client(gateway);
        gateway.Upstream.Enqueue(new ScriptedReply(Events:
        [
            """{"type":"message_start","message":{"id":"msg_sim1","type":"message","role":"assistant","model":"claude-sonnet-5-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}""",
            """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}""",
            """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""",
        ]));
        var text = new System.Text.StringBuilder();

        var error = await Assert.ThrowsAnyAsync<AnthropicException>(async () =>
        {
            await foreach (var update in client.Messages.CreateStreaming(new MessageCreateParams { Model = Claude, MaxTokens = 64, Messages = [new UserMessageParam("Hi")] }, TestContext.Current.CancellationToken))
            {
                if (update.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var piece))
                {
                    text.Append(piece.Text);
                }
            }
        });

        Assert.Equal("Hel", text.ToString());
        Assert.Contains("Overloaded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeyInXApiKey_IsAccepted_AndAWrongOneIsTheSdksUnauthorizedException()
    {
        await using var gateway = await StartAsync();
        using var keyed = new AnthropicClient(new ClientOptions { BaseUrl = gateway.BaseAddress.ToString().TrimEnd('/'), MaxRetries = 0, ExtraHeaders = new Dictionary<string, string> { ["x-api-key"] = GatewayFixture.ClientKey } });
        using var wrong = new AnthropicClient(new ClientOptions { BaseUrl = gateway.BaseAddress.ToString().TrimEnd('/'), MaxRetries = 0, ExtraHeaders = new Dictionary<string, string> { ["x-api-key"] = "not-a-key" } });
        var ask = new MessageCreateParams { Model = Gemini, MaxTokens = 64, Messages = [new UserMessageParam("Hi")] };

        var message = await keyed.Messages.Create(ask, TestContext.Current.CancellationToken);
        var refused = await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => wrong.Messages.Create(ask, TestContext.Current.CancellationToken));

        Assert.Equal("Hello from the MixProxy simulator. You said: Hi", Text(message));
        Assert.Equal("authentication_error", JsonNode.Parse(refused.ResponseBody)!["error"]!["type"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(Gemini, ":countTokens")]
    [InlineData(Claude, "/v1/messages/count_tokens")]
    public async Task CountTokens_IsAnsweredByTheUpstreamsCounter(string model, string upstreamPath)
    {
        await using var gateway = await StartAsync();
        using var client = Client(gateway);

        var counted = await client.Messages.CountTokens(new MessageCountTokensParams { Model = model, Messages = [new UserMessageParam(new string('y', 400))] }, TestContext.Current.CancellationToken);

        Assert.True(counted.InputTokens > 0);
        Assert.EndsWith(upstreamPath, gateway.Upstream.Received.Last().Path, StringComparison.Ordinal);
    }

    /// <summary>
    /// An Anthropic upstream refuses a request without <c>anthropic-version</c>; a cluster configured with only its
    /// key and address (nothing about forwarding headers) must still get one, whether the client's or a default.
    /// </summary>
    [Fact]
    public async Task Passthrough_ClusterForwardingNoAnthropicHeaders_StillSendsTheUpstreamAnAnthropicVersion()
    {
        await using var gateway = await GatewayFixture.StartAsync(config => AddAnthropicUpstream(config, "x-simulator-*"));
        using var client = Client(gateway);

        var message = await client.Messages.Create(new MessageCreateParams { Model = Claude, MaxTokens = 64, Messages = [new UserMessageParam("Hi")] }, TestContext.Current.CancellationToken);

        Assert.Equal("Hello from the MixProxy simulator. You said: Hi", Text(message));
        Assert.False(string.IsNullOrEmpty(gateway.Upstream.Received.Last().Headers.GetValueOrDefault("anthropic-version")));
    }

    internal static Task<GatewayFixture> StartAsync() => GatewayFixture.StartAsync(AddAnthropicUpstream);

    private static AnthropicClient Client(GatewayFixture gateway) =>
        new(new ClientOptions { BaseUrl = gateway.BaseAddress.ToString().TrimEnd('/'), ApiKey = GatewayFixture.ClientKey, MaxRetries = 0 });

    private static string Text(Message message) =>
        string.Concat(message.Content.Select(b => b.TryPickText(out var text) ? text.Text : null));

    /// <summary>The assistant turn as a client sends it back: every block the SDK returned, as the matching parameter.</summary>
    private static AssistantMessageParam Replayed(Message message) => new(message.Content.Select(block => block.Match<ContentBlockParam>(
        text => new TextBlockParam { Text = text.Text },
        thinking => new ThinkingBlockParam { Thinking = thinking.Thinking, Signature = thinking.Signature },
        redacted => new RedactedThinkingBlockParam { Data = redacted.Data },
        toolUse => new ToolUseBlockParam { ID = toolUse.ID, Name = toolUse.Name, Input = toolUse.Input },
        serverToolUse => throw new InvalidOperationException("no server tools here"),
        webSearch => throw new InvalidOperationException("no server tools here"),
        webFetch => throw new InvalidOperationException("no server tools here"),
        codeExecution => throw new InvalidOperationException("no server tools here"),
        bash => throw new InvalidOperationException("no server tools here"),
        textEditor => throw new InvalidOperationException("no server tools here"),
        toolSearch => throw new InvalidOperationException("no server tools here"),
        upload => throw new InvalidOperationException("no server tools here"))).ToList());

    private static UserMessageParam ToolResult(string id, string output) =>
        new(new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = id, Content = output } });

    /// <summary>The body of the last generation request the upstream got in the model's own protocol.</summary>
    private static JsonNode LastUpstreamBody(GatewayFixture gateway, string model)
    {
        bool Generation(RecordedRequest r) => model switch
        {
            Gemini => r.Path.EndsWith(":generateContent", StringComparison.Ordinal) || r.Path.EndsWith(":streamGenerateContent", StringComparison.Ordinal),
            Claude => r.Path == "/v1/messages",
            _ => r.Path == "/v1/chat/completions",
        };
        return JsonNode.Parse(gateway.Upstream.Received.Last(Generation).Body)!;
    }
}
