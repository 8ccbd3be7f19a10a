using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Helpers;
using Anthropic.Models.Messages;
using Microsoft.AspNetCore.Builder;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// The simulator as an Anthropic Messages API upstream, called directly: whole and streamed messages with Anthropic's
/// named events, the tool call it makes, signed thinking and the checks Anthropic makes on a tool loop, stops, prompt
/// caching, token counting, and the same key, script and error knobs as its other upstreams — and the official .NET
/// SDK reading all of it with its response validation on.
/// </summary>
public sealed class SimulatorAnthropicTests
{
    private const string Key = "anthropic-upstream-key";
    private const string ModelName = "claude-sonnet-5-5";
    private const string WeatherTool = """{"name":"get_weather","description":"Weather for a place","input_schema":{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}}""";
    private const string Thinking = """{"type":"enabled","budget_tokens":1024}""";

    [Fact]
    public async Task Create_TextMessage_IsAnAssistantMessageEchoingTheUserWithUsage()
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var (status, body, response) = await upstream.Client.PostJsonAsync("/v1/messages", $$"""{"model":"{{ModelName}}","max_tokens":256,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"Hi there"}]}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("req_", response.Headers.GetValues("request-id").Single(), StringComparison.Ordinal);
        var message = body!.AsObject();
        Assert.StartsWith("msg_", message["id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("message", message["type"]!.GetValue<string>());
        Assert.Equal("assistant", message["role"]!.GetValue<string>());
        Assert.Equal(ModelName, message["model"]!.GetValue<string>());
        var text = Assert.Single(message["content"]!.AsArray())!;
        Assert.Equal("text", text["type"]!.GetValue<string>());
        Assert.Equal("Hello from the MixProxy simulator. You said: Hi there", text["text"]!.GetValue<string>());
        Assert.Equal("end_turn", message["stop_reason"]!.GetValue<string>());
        Assert.Null(message["stop_sequence"]);
        var usage = message["usage"]!;
        Assert.True(usage["input_tokens"]!.GetValue<int>() > 0);
        Assert.Equal(0, usage["cache_creation_input_tokens"]!.GetValue<int>());
        Assert.Equal(0, usage["cache_read_input_tokens"]!.GetValue<int>());
        Assert.Equal(9, usage["output_tokens"]!.GetValue<int>()); // a word is a token
        Assert.Equal("/v1/messages", upstream.State.Received.Single().Path);
    }

    [Fact]
    public async Task Create_Stream_SendsAnthropicsNamedEventsInOrder_WithTheUsageAtBothEnds()
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var events = await upstream.StreamAsync($$"""{"model":"{{ModelName}}","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"stream me"}]}""", ("x-simulator-chunks", "3"));

        Assert.Equal(
            ["message_start", "content_block_start", "ping", ContentBlockDelta, ContentBlockDelta, ContentBlockDelta, "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.Name));
        Assert.All(events, e => Assert.Equal(e.Name, e.Data["type"]!.GetValue<string>()));
        var started = events[0].Data["message"]!;
        Assert.Empty(started["content"]!.AsArray());
        Assert.Null(started["stop_reason"]);
        Assert.True(started["usage"]!["input_tokens"]!.GetValue<int>() > 0);
        Assert.Equal("""{"type":"text","text":""}""", events[1].Data["content_block"]!.ToJsonString());
        Assert.All(events.Where(e => e.Name == ContentBlockDelta), e => Assert.Equal("text_delta", e.Data["delta"]!["type"]!.GetValue<string>()));
        Assert.Equal("Hello from the MixProxy simulator. You said: stream me", Deltas(events, "text"));
        Assert.All(events.Skip(1).Take(6).Where(e => e.Name != "ping"), e => Assert.Equal(0, e.Data["index"]!.GetValue<int>()));
        var delta = events[^2].Data;
        Assert.Equal("end_turn", delta["delta"]!["stop_reason"]!.GetValue<string>());
        Assert.Equal(9, delta["usage"]!["output_tokens"]!.GetValue<int>());
        Assert.Equal(started["usage"]!["input_tokens"]!.GetValue<int>(), delta["usage"]!["input_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Create_ToolOffered_CallsItStreamingItsInput_AndAnswersItsResultOnTheNextTurn()
    {
        await using var upstream = await RunningSimulator.StartAsync();
        const string Question = """{"role":"user","content":"Weather in Paris?"}""";

        var events = await upstream.StreamAsync($$"""{"model":"{{ModelName}}","max_tokens":256,"stream":true,"tools":[{{WeatherTool}}],"messages":[{{Question}}]}""");

        Assert.Equal(
            ["message_start", "content_block_start", "ping", ContentBlockDelta, ContentBlockDelta, ContentBlockDelta, "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.Name));
        var call = events[1].Data["content_block"]!;
        Assert.Equal("tool_use", call["type"]!.GetValue<string>());
        Assert.StartsWith("toolu_", call["id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("get_weather", call["name"]!.GetValue<string>());
        Assert.Empty(call["input"]!.AsObject());
        Assert.Equal("", events[3].Data["delta"]!["partial_json"]!.GetValue<string>());
        Assert.Equal("""{"query":"weather in Paris"}""", Deltas(events, "partial_json"));
        Assert.Equal("tool_use", events[^2].Data["delta"]!["stop_reason"]!.GetValue<string>());

        var id = call["id"]!.GetValue<string>();
        var assistant = $$$"""{"role":"assistant","content":[{"type":"tool_use","id":"{{{id}}}","name":"get_weather","input":{"query":"weather in Paris"}}]}""";
        var result = $$"""{"role":"user","content":[{"type":"tool_result","tool_use_id":"{{id}}","content":[{"type":"text","text":"21°C"}]}]}""";
        var (status, answer, _) = await upstream.Client.PostJsonAsync("/v1/messages", $$"""{"model":"{{ModelName}}","max_tokens":256,"tools":[{{WeatherTool}}],"messages":[{{Question}},{{assistant}},{{result}}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("end_turn", answer!["stop_reason"]!.GetValue<string>());
        Assert.Equal("Hello from the MixProxy simulator. You said: tool result 21°C", answer["content"]![0]!["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"type":"none"}""", null)]
    [InlineData("""{"type":"tool","name":"get_time"}""", "get_time")]
    [InlineData("""{"type":"auto"}""", "get_weather")]
    public async Task Create_ToolChoice_DecidesWhichToolIsCalled(string toolChoice, string? called)
    {
        await using var upstream = await RunningSimulator.StartAsync();
        const string TimeTool = """{"name":"get_time","input_schema":{"type":"object"}}""";

        var (_, body, _) = await upstream.Client.PostJsonAsync("/v1/messages", $$"""{"model":"{{ModelName}}","max_tokens":64,"tool_choice":{{toolChoice}},"tools":[{"type":"web_search_20250305","name":"web_search"},{{WeatherTool}},{{TimeTool}}],"messages":[{"role":"user","content":"Now?"}]}""");

        var block = Assert.Single(body!["content"]!.AsArray())!;
        Assert.Equal(called, block["type"]!.GetValue<string>() == "tool_use" ? block["name"]!.GetValue<string>() : null);
    }

    /// <summary>
    /// Thinking first, signed; the tool loop goes on only when the assistant turn comes back starting with that very
    /// thinking: left out, or with its text altered, Anthropic refuses the request, and so does the simulator.
    /// </summary>
    [Fact]
    public async Task Create_Thinking_IsASignedFirstBlock_ThatAToolLoopMustSendBackFirstAndUnaltered()
    {
        await using var upstream = await RunningSimulator.StartAsync();
        const string Question = """{"role":"user","content":"Weather in Paris?"}""";

        var (_, first, _) = await upstream.Client.PostJsonAsync("/v1/messages", $$"""{"model":"{{ModelName}}","max_tokens":2048,"thinking":{{Thinking}},"tools":[{{WeatherTool}}],"messages":[{{Question}}]}""");

        var content = first!["content"]!.AsArray();
        Assert.Equal(["thinking", "tool_use"], content.Select(b => b!["type"]!.GetValue<string>()));
        var thinking = content[0]!.AsObject();
        Assert.Contains("Weather in Paris?", thinking["thinking"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(thinking["signature"]!.GetValue<string>()));
        Assert.True(first["usage"]!["output_tokens"]!.GetValue<int>() > 7, "the thinking counts as output");
        var call = content[1]!;

        string Turn2(JsonNode assistantContent) => $$"""
            {"model":"{{ModelName}}","max_tokens":2048,"thinking":{{Thinking}},"tools":[{{WeatherTool}}],"messages":[{{Question}},
              {"role":"assistant","content":{{assistantContent.ToJsonString()}}},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"{{call["id"]!.GetValue<string>()}}","content":"sunny"}]}]}
            """;

        var (ok, answer, _) = await upstream.Client.PostJsonAsync("/v1/messages", Turn2(content));
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(["thinking", "text"], answer!["content"]!.AsArray().Select(b => b!["type"]!.GetValue<string>()));
        Assert.Equal("Hello from the MixProxy simulator. You said: tool result sunny", answer["content"]![1]!["text"]!.GetValue<string>());

        var (dropped, droppedBody, _) = await upstream.Client.PostJsonAsync("/v1/messages", Turn2(new JsonArray(call.DeepClone())));
        Assert.Equal(HttpStatusCode.BadRequest, dropped);
        AssertAnthropicError(droppedBody, "invalid_request_error", "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`");

        var altered = content.DeepClone().AsArray();
        altered[0]!["thinking"] = "Something else entirely.";
        var (forged, forgedBody, _) = await upstream.Client.PostJsonAsync("/v1/messages", Turn2(altered));
        Assert.Equal(HttpStatusCode.BadRequest, forged);
        AssertAnthropicError(forgedBody, "invalid_request_error", "messages.1.content.0: Invalid `signature` in `thinking` block");
    }

    [Fact]
    public async Task Create_ThinkingStreamed_SendsThinkingDeltasThenTheSignatureBeforeTheText()
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var events = await upstream.StreamAsync($$"""{"model":"{{ModelName}}","max_tokens":2048,"stream":true,"thinking":{{Thinking}},"messages":[{"role":"user","content":"Think"}]}""", ("x-simulator-chunks", "2"));

        Assert.Equal(
            ["message_start", "content_block_start", "ping", ContentBlockDelta, ContentBlockDelta, ContentBlockDelta, "content_block_stop",
             "content_block_start", ContentBlockDelta, ContentBlockDelta, "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.Name));
        Assert.Equal("""{"type":"thinking","thinking":"","signature":""}""", events[1].Data["content_block"]!.ToJsonString());
        Assert.Equal(["thinking_delta", "thinking_delta", "signature_delta"], events[3..6].Select(e => e.Data["delta"]!["type"]!.GetValue<string>()));
        Assert.Equal("The user wrote: Think. I will answer in one sentence.", Deltas(events, "thinking"));
        Assert.False(string.IsNullOrEmpty(events[5].Data["delta"]!["signature"]!.GetValue<string>()));
        Assert.Equal(1, events[7].Data["index"]!.GetValue<int>());
        Assert.Equal("Hello from the MixProxy simulator. You said: Think", Deltas(events, "text"));
    }

    [Theory]
    [InlineData("""{"type":"enabled","budget_tokens":512}""", 2048, "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")]
    [InlineData("""{"type":"enabled","budget_tokens":4096}""", 2048, "`max_tokens` must be greater than `thinking.budget_tokens`")]
    public async Task Create_ThinkingBudgetOutOfBounds_IsRefused(string thinking, int maxTokens, string message)
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var (status, body, _) = await upstream.Client.PostJsonAsync("/v1/messages", $$"""{"model":"{{ModelName}}","max_tokens":{{maxTokens}},"thinking":{{thinking}},"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertAnthropicError(body, "invalid_request_error", message);
    }

    [Theory]
    [InlineData("""[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{}}]},{"role":"user","content":"b"}]""", "messages.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1.")]
    [InlineData("""[{"role":"user","content":"a"},{"role":"assistant","content":"ok"},{"role":"user","content":[{"type":"text","text":"x"},{"type":"tool_result","tool_use_id":"toolu_2","content":"y"}]}]""", "messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_2.")]
    [InlineData("""[{"role":"tool","content":"a"}]""", "messages.0.role: Input should be 'user', 'assistant' or 'system'")]
    [InlineData("""[{"role":"user"}]""", "messages.0.content: Input should be a valid string or a list of content blocks")]
    [InlineData("""[]""", "messages: List should have at least 1 item after validation, not 0")]
    public async Task Create_MessagesAnthropicRefuses_AreA400NamingThePlace(string messages, string message)
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var (status, body, _) = await upstream.Client.PostJsonAsync("/v1/messages", $$"""{"model":"{{ModelName}}","max_tokens":64,"messages":{{messages}}}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertAnthropicError(body, "invalid_request_error", message);
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"a"}],"max_tokens":5}""", "model: Field required")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a"}]}""", "max_tokens: Field required")]
    [InlineData("""{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"a"}]}""", "max_tokens: Input should be an integer greater than or equal to 1")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"a"}],"thinking":"on"}""", "thinking: Input should be an object")]
    [InlineData("""[1]""", "There was an error parsing the body of your request.")]
    public async Task Create_MissingOrMalformedFields_AreA400NamingTheField(string request, string message)
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var (status, body, _) = await upstream.Client.PostJsonAsync("/v1/messages", request);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertAnthropicError(body, "invalid_request_error", message);
    }

    [Fact]
    public async Task Create_SystemMessageAmongTheMessages_IsAccepted_AndTheUserTurnIsAnswered()
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var (status, body, _) = await upstream.Client.PostJsonAsync("/v1/messages", $$"""{"model":"{{ModelName}}","max_tokens":64,"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Hello from the MixProxy simulator. You said: Hi", body!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""["simulator"]""", 64, "Hello from the MixProxy ", "stop_sequence", "simulator")]
    [InlineData("""["zzz","You said"]""", 64, "Hello from the MixProxy simulator. ", "stop_sequence", "You said")]
    [InlineData("null", 3, "Hello from the ", "max_tokens", null)]
    public async Task Create_StopSequenceOrMaxTokens_CutsTheAnswerAndSaysWhy(string stopSequences, int maxTokens, string text, string stopReason, string? stopSequence)
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var (_, body, _) = await upstream.Client.PostJsonAsync("/v1/messages", $$"""{"model":"{{ModelName}}","max_tokens":{{maxTokens}},"stop_sequences":{{stopSequences}},"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(text, body!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(stopReason, body["stop_reason"]!.GetValue<string>());
        Assert.Equal(stopSequence, body["stop_sequence"]?.GetValue<string>());
    }

    [Fact]
    public async Task Create_StructuredOutput_AnswersAnInstanceOfTheSchema()
    {
        await using var upstream = await RunningSimulator.StartAsync();

        const string Format = """{"type":"json_schema","schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}""";

        var (_, body, _) = await upstream.Client.PostJsonAsync("/v1/messages", $$"""{"model":"{{ModelName}}","max_tokens":64,"output_config":{"format":{{Format}}},"messages":[{"role":"user","content":"Where?"}]}""");

        Assert.Equal(JsonValueKind.String, JsonNode.Parse(body!["content"]![0]!["text"]!.GetValue<string>())!["city"]!.GetValueKind());
    }

    /// <summary>The prompt up to the last cache_control mark is written to the cache once, then read from it; the rest stays plain input.</summary>
    [Fact]
    public async Task Create_CacheControl_WritesThePrefixOnceThenReadsIt()
    {
        await using var upstream = await RunningSimulator.StartAsync();
        var system = "[{\"type\":\"text\",\"text\":\"" + new string('x', 4000) + "\",\"cache_control\":{\"type\":\"ephemeral\",\"ttl\":\"1h\"}}]";
        string Request(string question) => $$"""{"model":"{{ModelName}}","max_tokens":64,"system":{{system}},"messages":[{"role":"user","content":"{{question}}"}]}""";

        var (_, first, _) = await upstream.Client.PostJsonAsync("/v1/messages", Request("first question"));
        var (_, second, _) = await upstream.Client.PostJsonAsync("/v1/messages", Request("second question, a longer one"));

        var written = first!["usage"]!["cache_creation_input_tokens"]!.GetValue<int>();
        Assert.True(written >= 1000, $"the 4000-character system prompt was cached, got {written} tokens");
        Assert.Equal(written, first["usage"]!["cache_creation"]!["ephemeral_1h_input_tokens"]!.GetValue<int>());
        Assert.Equal(0, first["usage"]!["cache_read_input_tokens"]!.GetValue<int>());
        Assert.Equal(written, second!["usage"]!["cache_read_input_tokens"]!.GetValue<int>());
        Assert.Equal(0, second["usage"]!["cache_creation_input_tokens"]!.GetValue<int>());
        Assert.InRange(second["usage"]!["input_tokens"]!.GetValue<int>(), 1, 100);
    }

    [Fact]
    public async Task CountTokens_CountsTheRequestWithoutMaxTokens()
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var (status, body, _) = await upstream.Client.PostJsonAsync("/v1/messages/count_tokens", $$"""{"model":"{{ModelName}}","messages":[{"role":"user","content":"{{new string('y', 400)}}"}]}""");
        var (missing, missingBody, _) = await upstream.Client.PostJsonAsync("/v1/messages/count_tokens", """{"model":"m"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.InRange(body!["input_tokens"]!.GetValue<int>(), 100, 130);
        Assert.Equal(HttpStatusCode.BadRequest, missing);
        AssertAnthropicError(missingBody, "invalid_request_error", "messages: Field required");
    }

    [Fact]
    public async Task KeyVersionScriptAndInjectedErrors_BehaveAsOnTheOtherUpstreams_InAnthropicsShape()
    {
        await using var upstream = await RunningSimulator.StartAsync();
        var ask = $$"""{"model":"{{ModelName}}","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""";

        using var stranger = new HttpClient { BaseAddress = new Uri(upstream.Address) };
        var (noKey, noKeyBody, _) = await stranger.PostJsonAsync("/v1/messages", ask, ("anthropic-version", "2023-06-01"));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey);
        AssertAnthropicError(noKeyBody, "authentication_error", "x-api-key or Authorization header is required");
        var (wrong, wrongBody, _) = await stranger.PostJsonAsync("/v1/messages", ask, ("x-api-key", "wrong"), ("anthropic-version", "2023-06-01"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        AssertAnthropicError(wrongBody, "authentication_error", "invalid x-api-key");
        var (wrongBearer, _, _) = await stranger.PostJsonAsync("/v1/messages", ask, ("Authorization", "Bearer wrong"), ("anthropic-version", "2026-10-21"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrongBearer);
        var (bearer, _, _) = await stranger.PostJsonAsync("/v1/messages", ask, ("Authorization", "Bearer " + Key), ("anthropic-version", "2026-10-21"));
        Assert.Equal(HttpStatusCode.OK, bearer); // the official SDKs send their API key so since API version 2026-10-21
        var (noVersion, noVersionBody, _) = await stranger.PostJsonAsync("/v1/messages", ask, ("x-api-key", Key));
        Assert.Equal(HttpStatusCode.BadRequest, noVersion);
        AssertAnthropicError(noVersionBody, "invalid_request_error", "anthropic-version: header is required");

        var (limited, limitedBody, limitedResponse) = await upstream.Client.PostJsonAsync("/v1/messages", ask, ("x-simulator-error", "429"));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited);
        AssertAnthropicError(limitedBody, "rate_limit_error", "rate limit");
        Assert.Equal(TimeSpan.FromSeconds(7), limitedResponse.Headers.RetryAfter?.Delta);
        Assert.Equal(limitedResponse.Headers.GetValues("request-id").Single(), limitedBody!["request_id"]!.GetValue<string>());
        var (overloaded, overloadedBody, _) = await upstream.Client.PostJsonAsync("/v1/messages/count_tokens", ask, ("x-simulator-error", "529"));
        Assert.Equal((HttpStatusCode)529, overloaded);
        AssertAnthropicError(overloadedBody, "overloaded_error", "Overloaded");

        // A scripted stream that breaks down midway with Anthropic's error event, each event named by its type.
        upstream.State.Enqueue(new ScriptedReply(Events: ["""{"type":"message_start","message":{}}""", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""], EventDelimiter: "\n\n"));
        using var scripted = await upstream.Client.PostAsync("/v1/messages", new StringContent(ask), TestContext.Current.CancellationToken);
        Assert.Equal(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
            await scripted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ModelList_WithAnthropicsKeyHeader_IsAnthropicsList_AndGooglesOtherwise()
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var (status, anthropic) = await upstream.Client.GetJsonAsync("/v1/models");
        using var google = new HttpClient { BaseAddress = new Uri(upstream.Address) };
        var (googleStatus, googleList) = await google.GetJsonAsync("/v1/models", ("x-goog-api-key", Key));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.All(anthropic!["data"]!.AsArray(), m => Assert.Equal("model", m!["type"]!.GetValue<string>()));
        Assert.False(anthropic["has_more"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.OK, googleStatus);
        Assert.NotEmpty(googleList!["models"]!.AsArray());
    }

    /// <summary>The official SDK, validating every response, reads the simulator's messages, streams, thinking and errors.</summary>
    [Fact]
    public async Task OfficialSdk_ReadsEveryShape_WithResponseValidationOn()
    {
        await using var upstream = await RunningSimulator.StartAsync();
        using var client = new AnthropicClient(new Anthropic.Core.ClientOptions { BaseUrl = upstream.Address, ApiKey = Key, MaxRetries = 0, ResponseValidation = true });
        var tool = new Tool
        {
            Name = "get_weather",
            InputSchema = new InputSchema { Properties = new Dictionary<string, JsonElement> { ["query"] = JsonSerializer.SerializeToElement(new { type = "string" }) }, Required = ["query"] },
        };
        MessageParam question = new UserMessageParam("Weather in Paris?");
        var ask = new MessageCreateParams { Model = ModelName, MaxTokens = 2048, Thinking = new ThinkingConfigEnabled(1024), Tools = [tool], Messages = [question] };

        var first = await client.Messages.CreateStreaming(ask, TestContext.Current.CancellationToken).Aggregate();

        Assert.True(first.Content[0].TryPickThinking(out var thinking));
        Assert.True(first.Content[1].TryPickToolUse(out var call));
        Assert.Equal("weather in Paris", call.Input["query"].GetString());
        Assert.Equal(StopReason.ToolUse, (StopReason)first.StopReason!);
        var second = await client.Messages.Create(
            ask with
            {
                Messages =
                [
                    question,
                    new AssistantMessageParam(new List<ContentBlockParam> { new ThinkingBlockParam { Thinking = thinking.Thinking, Signature = thinking.Signature }, new ToolUseBlockParam { ID = call.ID, Name = call.Name, Input = call.Input } }),
                    new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam { ToolUseID = call.ID, Content = "sunny" } }),
                ],
            },
            TestContext.Current.CancellationToken);
        Assert.True(second.Content[1].TryPickText(out var text));
        Assert.Equal("Hello from the MixProxy simulator. You said: tool result sunny", text.Text);
        Assert.True(second.Usage.InputTokens > 0 && second.Usage.OutputTokens > 0);

        var counted = await client.Messages.CountTokens(new MessageCountTokensParams { Model = ModelName, Messages = [question] }, TestContext.Current.CancellationToken);
        Assert.True(counted.InputTokens > 0);

        var limited = await Assert.ThrowsAsync<AnthropicRateLimitException>(() => client.WithOptions(o => o with { ExtraHeaders = new Dictionary<string, string> { ["x-simulator-error"] = "429" } }).Messages.Create(ask, TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
    }

    private const string ContentBlockDelta = "content_block_delta";

    /// <summary>The concatenated deltas of one kind (<c>text</c>, <c>thinking</c>, <c>partial_json</c>) across a stream.</summary>
    private static string Deltas(List<(string Name, JsonNode Data)> events, string field) =>
        string.Concat(events.Where(e => e.Name == ContentBlockDelta && e.Data["delta"]![field] is not null).Select(e => e.Data["delta"]![field]!.GetValue<string>()));

    /// <summary>Anthropic's error body: <c>{"type":"error","error":{"type","message"},"request_id"}</c>.</summary>
    private static void AssertAnthropicError(JsonNode? body, string type, string messageStart)
    {
        Assert.NotNull(body);
        Assert.Equal("error", body["type"]!.GetValue<string>());
        Assert.Equal(type, body["error"]!["type"]!.GetValue<string>());
        Assert.Contains(messageStart, body["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("req_", body["request_id"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    /// <summary>A simulator on a loopback port that requires <see cref="Key"/>, and a client that presents it as Anthropic clients do.</summary>
    private sealed class RunningSimulator : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private RunningSimulator(WebApplication app, SimulatorState state)
        {
            _app = app;
            State = state;
            Address = SimulatorApp.Address(app);
            Client = new HttpClient { BaseAddress = new Uri(Address), Timeout = TimeSpan.FromSeconds(30) };
            Client.DefaultRequestHeaders.Add("x-api-key", Key);
            Client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        }

        public string Address { get; }

        public SimulatorState State { get; }

        public HttpClient Client { get; }

        public static async Task<RunningSimulator> StartAsync()
        {
            var state = new SimulatorState();
            var app = SimulatorApp.Build("http://127.0.0.1:0", new SimulatorOptions { ChunkInterval = TimeSpan.FromMilliseconds(1), RequiredKey = Key }, state);
            await app.StartAsync(TestContext.Current.CancellationToken);
            return new RunningSimulator(app, state);
        }

        /// <summary>Posts a streamed request and reads its events: each one's <c>event:</c> name and <c>data:</c> object.</summary>
        public async Task<List<(string Name, JsonNode Data)>> StreamAsync(string json, params (string Name, string Value)[] headers)
        {
            var (status, _, response) = await Client.PostJsonAsync("/v1/messages", json, headers);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("text/event-stream", response.ContentType()?.MediaType);
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            var events = new List<(string, JsonNode)>();
            foreach (var block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
            {
                var lines = block.Split('\n');
                Assert.Equal(2, lines.Length);
                Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
                Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
                events.Add((lines[0]["event: ".Length..], JsonNode.Parse(lines[1]["data: ".Length..])!));
            }

            return events;
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
