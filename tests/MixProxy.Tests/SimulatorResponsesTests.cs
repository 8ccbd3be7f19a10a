using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;
using OpenAI.Responses;

// The SDK marks its Responses client as for evaluation; it is the parser the simulator's shapes must satisfy.
#pragma warning disable OPENAI001

namespace MixProxy.Tests;

/// <summary>
/// The simulator as an OpenAI Responses API upstream, called directly: whole and streamed responses, the function
/// call it makes when a tool is on offer, chaining by <c>previous_response_id</c>, and the same knobs as its chat upstream.
/// </summary>
public sealed class SimulatorResponsesTests
{
    private const string Key = "responses-upstream-key";

    private const string WeatherTool = """{"type":"function","name":"get_weather","description":"Weather for a place","parameters":{"type":"object","properties":{"query":{"type":"string"}}}}""";

    [Fact]
    public async Task Create_TextInput_IsACompletedResponseEchoingTheRequestAndKeptForGet()
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var (status, body, _) = await upstream.Client.PostJsonAsync("/v1/responses", """{"model":"gpt-5-mini","input":"Hi there","instructions":"Be brief.","temperature":0.2,"metadata":{"case":"1"}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var response = body!.AsObject();
        Assert.StartsWith("resp_", response["id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("response", response["object"]!.GetValue<string>());
        Assert.Equal("completed", response["status"]!.GetValue<string>());
        Assert.Equal("gpt-5-mini", response["model"]!.GetValue<string>());
        Assert.Equal("Be brief.", response["instructions"]!.GetValue<string>());
        Assert.Equal(0.2, response["temperature"]!.GetValue<double>());
        Assert.Equal("1", response["metadata"]!["case"]!.GetValue<string>());
        Assert.Equal("text", response["text"]!["format"]!["type"]!.GetValue<string>());
        Assert.Null(response["error"]);
        Assert.Null(response["incomplete_details"]);
        Assert.Null(response["previous_response_id"]);
        var message = Assert.Single(response["output"]!.AsArray())!;
        Assert.Equal("message", message["type"]!.GetValue<string>());
        Assert.StartsWith("msg_", message["id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("assistant", message["role"]!.GetValue<string>());
        var part = Assert.Single(message["content"]!.AsArray())!;
        Assert.Equal("output_text", part["type"]!.GetValue<string>());
        Assert.Equal("Hello from the MixProxy simulator. You said: Hi there", part["text"]!.GetValue<string>());
        Assert.Empty(part["annotations"]!.AsArray());
        var usage = response["usage"]!;
        Assert.True(usage["input_tokens"]!.GetValue<int>() > 0);
        Assert.Equal(0, usage["input_tokens_details"]!["cached_tokens"]!.GetValue<int>());
        Assert.Equal(usage["input_tokens"]!.GetValue<int>() + usage["output_tokens"]!.GetValue<int>(), usage["total_tokens"]!.GetValue<int>());

        var (getStatus, stored) = await upstream.Client.GetJsonAsync("/v1/responses/" + response["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, getStatus);
        Assert.True(JsonNode.DeepEquals(response, stored));
        Assert.Equal("/v1/responses", upstream.State.Received.First().Path);
    }

    [Fact]
    public async Task Create_Stream_NamesEveryEventInOrderWithIncreasingSequenceNumbers()
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var events = await upstream.StreamAsync("""{"model":"gpt-5-mini","input":[{"role":"user","content":[{"type":"input_text","text":"stream me"}]}],"stream":true}""", ("x-simulator-chunks", "3"));

        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
             "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
             "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            events.Select(e => e.Name));
        Assert.All(events, e => Assert.Equal(e.Name, e.Data["type"]!.GetValue<string>()));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data["sequence_number"]!.GetValue<int>()));
        Assert.Equal("in_progress", events[0].Data["response"]!["status"]!.GetValue<string>());
        var text = string.Concat(events.Where(e => e.Name == "response.output_text.delta").Select(e => e.Data["delta"]!.GetValue<string>()));
        Assert.Equal("Hello from the MixProxy simulator. You said: stream me", text);
        Assert.Equal(text, events[7].Data["text"]!.GetValue<string>());
        var completed = events[^1].Data["response"]!;
        Assert.Equal("completed", completed["status"]!.GetValue<string>());
        Assert.Equal(text, completed["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.True(completed["usage"]!["output_tokens"]!.GetValue<int>() > 0);
        var itemId = events[2].Data["item"]!["id"]!.GetValue<string>();
        Assert.All(events.Skip(3).Take(6), e => Assert.Equal(itemId, e.Data["item_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Create_FunctionToolOnOffer_CallsItAndAnswersItsOutputOnTheChainedTurn()
    {
        await using var upstream = await RunningSimulator.StartAsync();

        var events = await upstream.StreamAsync($$"""{"model":"gpt-5-mini","input":"Weather?","tools":[{{WeatherTool}}],"stream":true}""");

        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.function_call_arguments.delta",
             "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done", "response.completed"],
            events.Select(e => e.Name));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data["sequence_number"]!.GetValue<int>()));
        Assert.Equal("", events[2].Data["item"]!["arguments"]!.GetValue<string>());
        var call = events[6].Data["item"]!;
        Assert.Equal("function_call", call["type"]!.GetValue<string>());
        Assert.Equal("get_weather", call["name"]!.GetValue<string>());
        Assert.StartsWith("call_", call["call_id"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("""{"query":"weather in Paris"}""", call["arguments"]!.GetValue<string>());
        Assert.Equal(call["arguments"]!.GetValue<string>(), string.Concat(events.Where(e => e.Name == "response.function_call_arguments.delta").Select(e => e.Data["delta"]!.GetValue<string>())));
        var first = events[^1].Data["response"]!;

        var answer = new JsonObject
        {
            ["model"] = "gpt-5-mini",
            ["previous_response_id"] = first["id"]!.GetValue<string>(),
            ["input"] = new JsonArray(new JsonObject { ["type"] = "function_call_output", ["call_id"] = call["call_id"]!.GetValue<string>(), ["output"] = "21°C" }),
            ["tools"] = JsonNode.Parse("[" + WeatherTool + "]"),
        };
        var (status, second, _) = await upstream.Client.PostJsonAsync("/v1/responses", answer.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(first["id"]!.GetValue<string>(), second!["previous_response_id"]!.GetValue<string>());
        Assert.Equal("Hello from the MixProxy simulator. You said: tool result 21°C", second["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.True(second["usage"]!["input_tokens"]!.GetValue<int>() > answer.ToJsonString().Length / 4, "the earlier turns count as input");
    }

    [Fact]
    public async Task OfficialSdk_StreamsAndChains_ParsingEveryEvent()
    {
        await using var upstream = await RunningSimulator.StartAsync();
        var client = new ResponsesClient(new ApiKeyCredential(Key), new ResponsesClientOptions { Endpoint = new Uri(upstream.Address + "/v1") });
        var options = new CreateResponseOptions("gpt-5-mini", [ResponseItem.CreateUserMessageItem("Weather?")])
        {
            Tools = { ResponseTool.CreateFunctionTool("get_weather", BinaryData.FromString("""{"type":"object","properties":{"query":{"type":"string"}}}"""), strictModeEnabled: false) },
            StreamingEnabled = true,
        };

        ResponseResult? first = null;
        await foreach (var update in await client.CreateResponseStreamingAsync(options, TestContext.Current.CancellationToken))
        {
            first = (update as StreamingResponseCompletedUpdate)?.Response ?? first;
        }

        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first!.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        var followUp = new CreateResponseOptions("gpt-5-mini", [ResponseItem.CreateFunctionCallOutputItem(call.CallId, "sunny")]) { PreviousResponseId = first.Id };
        ResponseResult second = await client.CreateResponseAsync(followUp, TestContext.Current.CancellationToken);

        Assert.Equal("Hello from the MixProxy simulator. You said: tool result sunny", second.GetOutputText());
        Assert.Equal(first.Id, second.PreviousResponseId);
        Assert.True(second.Usage.TotalTokenCount > 0);
        Assert.Equal(2, upstream.State.StoredResponseIds.Count);
    }

    [Fact]
    public async Task Create_KeyScriptAndInjectedErrors_BehaveAsOnTheChatUpstream()
    {
        await using var upstream = await RunningSimulator.StartAsync();
        const string Ask = """{"model":"gpt-5-mini","input":"hi","store":false}""";

        using var stranger = new HttpClient { BaseAddress = new Uri(upstream.Address) };
        var (badKey, badKeyBody, _) = await stranger.PostJsonAsync("/v1/responses", Ask, ("Authorization", "Bearer wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, badKey);
        HttpHelpers.AssertOpenAIError(badKeyBody, "invalid_api_key");

        var (injected, injectedBody, _) = await upstream.Client.PostJsonAsync("/v1/responses", Ask, ("x-simulator-error", "429"));
        Assert.Equal(HttpStatusCode.TooManyRequests, injected);
        HttpHelpers.AssertOpenAIError(injectedBody);

        var (unknown, unknownBody, _) = await upstream.Client.PostJsonAsync("/v1/responses", """{"model":"gpt-5-mini","input":"hi","previous_response_id":"resp_nope"}""");
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        HttpHelpers.AssertOpenAIError(unknownBody, "previous_response_not_found");

        upstream.State.Enqueue(new ScriptedReply(Events: ["""{"type":"response.created","sequence_number":0}""", "not json"], EventDelimiter: "\n\n"));
        using var scripted = await upstream.Client.PostAsync("/v1/responses", new StringContent(Ask), TestContext.Current.CancellationToken);
        Assert.Equal("event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0}\n\ndata: not json\n\n", await scripted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Empty(upstream.State.StoredResponseIds);
        Assert.Equal(HttpStatusCode.NotFound, (await upstream.Client.GetJsonAsync("/v1/responses/resp_nope")).Status);
    }

    /// <summary>A simulator on a loopback port that requires <see cref="Key"/>, and a client that presents it.</summary>
    private sealed class RunningSimulator : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private RunningSimulator(WebApplication app, SimulatorState state)
        {
            _app = app;
            State = state;
            Address = SimulatorApp.Address(app);
            Client = new HttpClient { BaseAddress = new Uri(Address), Timeout = TimeSpan.FromSeconds(30) };
            Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
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
            var (status, _, response) = await Client.PostJsonAsync("/v1/responses", json, headers);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("text/event-stream", response.ContentType()?.MediaType);
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
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
