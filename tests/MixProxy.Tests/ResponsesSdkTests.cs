using System.ClientModel;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;
using OpenAI.Responses;

// The SDK marks its Responses client as for evaluation; it is the client a .NET user of the gateway would pick.
#pragma warning disable OPENAI001

namespace MixProxy.Tests;

/// <summary>
/// The OpenAI .NET SDK's Responses client against the gateway, configured as a new user would (endpoint and key):
/// on a Gemini 3 model (translated, and its upstream refuses a tool loop that lost the call's thought signature) and on
/// a model served by Chat Completions. What the upstream received is checked too: the SDK cannot see a signature.
/// </summary>
public sealed class ResponsesSdkTests
{
    private const string Gemini = "gemini-3.1-pro-preview";
    private const string Gpt = "gpt-4o-mini";

    private static readonly ResponseTool Weather = ResponseTool.CreateFunctionTool(
        "get_weather",
        BinaryData.FromString("""{"type":"object","properties":{"query":{"type":"string"}},"required":["query"],"additionalProperties":false}"""),
        strictModeEnabled: true,
        functionDescription: "The weather in a city");

    [Theory]
    [InlineData(Gemini)]
    [InlineData(Gpt)]
    public async Task CreateResponse_TextAndInstructions_IsACompletedAnswerWithUsage(string model)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        var options = new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("Hello there")]) { Instructions = "Answer in one sentence." };

        ResponseResult response = await Client(gateway).CreateResponseAsync(options, TestContext.Current.CancellationToken);

        Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal(model, response.Model);
        Assert.Equal("Hello from the MixProxy simulator. You said: Hello there", response.GetOutputText());
        Assert.True(response.Usage.InputTokenCount > 0 && response.Usage.OutputTokenCount > 0);
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);
        Assert.Contains("Answer in one sentence.", LastUpstreamBody(gateway, model).ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Gemini)]
    [InlineData(Gpt)]
    public async Task CreateResponseStreaming_DeltasAssembleIntoTheCompletedResponse(string model)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        var options = new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("Tell me a story")]) { StreamingEnabled = true };

        var text = new System.Text.StringBuilder();
        var deltas = 0;
        ResponseResult? completed = null;
        await foreach (var update in await Client(gateway).CreateResponseStreamingAsync(options, TestContext.Current.CancellationToken))
        {
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    deltas++;
                    text.Append(delta.Delta);
                    break;
                case StreamingResponseCompletedUpdate done:
                    completed = done.Response;
                    break;
            }
        }

        Assert.True(deltas > 1, $"the text came in several deltas, got {deltas}");
        Assert.Equal("Hello from the MixProxy simulator. You said: Tell me a story", text.ToString());
        Assert.NotNull(completed);
        Assert.Equal(ResponseStatus.Completed, completed.Status);
        Assert.Equal(text.ToString(), completed.GetOutputText());
        Assert.True(completed.Usage.TotalTokenCount > 0);
    }

    /// <summary>
    /// Turn 1 gets a function call, turn 2 sends only its output and <c>previous_response_id</c>: the gateway rebuilds
    /// the conversation from what it stored, so the upstream sees the call again — on Gemini 3 with the very signature
    /// it issued, on Chat Completions as an assistant tool call followed by the tool's result.
    /// </summary>
    [Theory]
    [InlineData(Gemini)]
    [InlineData(Gpt)]
    public async Task ToolLoop_ChainedByPreviousResponseId_GivesTheUpstreamTheCallAndItsResult(string model)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        var client = Client(gateway);

        ResponseResult first = await client.CreateResponseAsync(
            new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("What is the weather in Paris?")]) { Tools = { Weather } },
            TestContext.Current.CancellationToken);
        var call = Assert.Single(first.OutputItems.OfType<FunctionCallResponseItem>());
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("weather in Paris", JsonNode.Parse(call.FunctionArguments.ToString())!["query"]!.GetValue<string>());

        ResponseResult second = await client.CreateResponseAsync(
            new CreateResponseOptions(model, [ResponseItem.CreateFunctionCallOutputItem(call.CallId, "sunny")]) { Tools = { Weather }, PreviousResponseId = first.Id },
            TestContext.Current.CancellationToken);

        Assert.Equal(ResponseStatus.Completed, second.Status);
        Assert.Equal(first.Id, second.PreviousResponseId);
        Assert.Equal("Hello from the MixProxy simulator. You said: tool result sunny", second.GetOutputText());
        var turn2 = LastUpstreamBody(gateway, model);
        if (model == Gemini)
        {
            var contents = turn2["contents"]!.AsArray();
            var step = contents.Single(c => c!["role"]!.GetValue<string>() == "model")!["parts"]!.AsArray();
            var functionCall = step.First(p => p!["functionCall"] is not null)!;
            Assert.Equal("get_weather", functionCall["functionCall"]!["name"]!.GetValue<string>());
            Assert.Equal(Assert.Single(gateway.Upstream.IssuedThoughtSignatures), functionCall["thoughtSignature"]!.GetValue<string>());
            var result = contents[^1]!["parts"]![0]!["functionResponse"]!;
            Assert.Equal("get_weather", result["name"]!.GetValue<string>());
            Assert.Equal("sunny", result["response"]!["output"]!.GetValue<string>());
        }
        else
        {
            var messages = turn2["messages"]!.AsArray();
            var assistant = messages.Single(m => m!["role"]!.GetValue<string>() == "assistant")!;
            var toolCall = Assert.Single(assistant["tool_calls"]!.AsArray())!;
            Assert.Equal(call.CallId, toolCall["id"]!.GetValue<string>());
            Assert.Equal("get_weather", toolCall["function"]!["name"]!.GetValue<string>());
            var tool = messages[^1]!;
            Assert.Equal("tool", tool["role"]!.GetValue<string>());
            Assert.Equal(call.CallId, tool["tool_call_id"]!.GetValue<string>());
            Assert.Equal("sunny", tool["content"]!.GetValue<string>());
        }
    }

    /// <summary>
    /// A client that keeps no reasoning items and stores nothing sends back the bare function call: the signature comes
    /// from the gateway's cache, not the bypass value the gateway would put in its place if it had none.
    /// </summary>
    [Fact]
    public async Task ToolLoop_OnlyTheFunctionCallSentBack_TheUpstreamGetsTheSignatureItIssued()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        var client = Client(gateway);
        var question = ResponseItem.CreateUserMessageItem("What is the weather in Paris?");

        ResponseResult first = await client.CreateResponseAsync(
            new CreateResponseOptions(Gemini, [question]) { Tools = { Weather }, StoredOutputEnabled = false },
            TestContext.Current.CancellationToken);
        var call = Assert.Single(first.OutputItems.OfType<FunctionCallResponseItem>());
        Assert.Empty(first.OutputItems.OfType<ReasoningResponseItem>()); // not asked for with include

        ResponseResult second = await client.CreateResponseAsync(
            new CreateResponseOptions(Gemini, [question, ResponseItem.CreateFunctionCallItem(call.CallId, call.FunctionName, call.FunctionArguments), ResponseItem.CreateFunctionCallOutputItem(call.CallId, "sunny")])
            {
                Tools = { Weather },
                StoredOutputEnabled = false,
            },
            TestContext.Current.CancellationToken);

        Assert.Equal("Hello from the MixProxy simulator. You said: tool result sunny", second.GetOutputText());
        var step = LastUpstreamBody(gateway, Gemini)["contents"]!.AsArray().Single(c => c!["role"]!.GetValue<string>() == "model")!;
        Assert.Equal(Assert.Single(gateway.Upstream.IssuedThoughtSignatures), step["parts"]![0]!["thoughtSignature"]!.GetValue<string>());
    }

    private const string DrawnAnswer = """
        {"responseId":"img1","modelVersion":"gemini-3.1-pro-preview","candidates":[{"index":0,"finishReason":"STOP","content":{"role":"model","parts":[
          {"text":"Here is your cat."},{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]},
          "groundingMetadata":{"webSearchQueries":["cat drawing"],"searchEntryPoint":{"renderedContent":"<div>cat drawing</div>"}}}],
         "usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"totalTokenCount":14}}
        """;

    /// <summary>
    /// Gemini's image output reaches the SDK as OpenAI's own image item, whole and streamed, and Google's search
    /// suggestions ride in the response's <c>extra_content</c>. Sending the output back as input (as agent loops do)
    /// works: the image, which a Chat turn cannot hold, is dropped and reported rather than refused.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ImageOutput_IsAnImageItem_AndEchoedBackIsDroppedAndReported(bool stream)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        var client = Client(gateway);
        var cancellation = TestContext.Current.CancellationToken;
        if (stream)
        {
            gateway.Upstream.Enqueue(new ScriptedReply(Events: [System.Text.Json.Nodes.JsonNode.Parse(DrawnAnswer)!.ToJsonString()]));
        }
        else
        {
            gateway.Upstream.Enqueue(new ScriptedReply(Body: DrawnAnswer));
        }

        var options = new CreateResponseOptions(Gemini, [ResponseItem.CreateUserMessageItem("Draw a cat")]) { StreamingEnabled = stream, Tools = { ResponseTool.CreateWebSearchTool() } };
        ResponseResult? first = null;
        var imageEvents = 0;
        if (stream)
        {
            await foreach (var update in await client.CreateResponseStreamingAsync(options, cancellation))
            {
                imageEvents += update is StreamingResponseImageGenerationCallCompletedUpdate ? 1 : 0;
                first = update is StreamingResponseCompletedUpdate done ? done.Response : first;
            }
        }
        else
        {
            first = await client.CreateResponseAsync(options, cancellation);
        }

        Assert.NotNull(first);
        Assert.Equal("Here is your cat.", first.GetOutputText());
        var image = Assert.Single(first.OutputItems.OfType<ImageGenerationCallResponseItem>());
        Assert.Equal(Convert.FromBase64String("iVBORw0KGgo="), image.ImageResultBytes.ToArray());
        Assert.Equal(stream ? 1 : 0, imageEvents);
        var stored = await new HttpClient { BaseAddress = gateway.BaseAddress }.SendAsync(
            new HttpRequestMessage(HttpMethod.Get, $"/v1/responses/{first.Id}") { Headers = { { "Authorization", "Bearer " + GatewayFixture.ClientKey } } }, cancellation);
        var google = JsonNode.Parse(await stored.Content.ReadAsStringAsync(cancellation))!["extra_content"]!["google"]!;
        Assert.Equal("<div>cat drawing</div>", google["search_entry_point"]!["rendered_content"]!.GetValue<string>());

        var again = new CreateResponseOptions(Gemini, [ResponseItem.CreateUserMessageItem("Draw a cat"), .. first.OutputItems, ResponseItem.CreateUserMessageItem("Make it blue")]);
        var second = await client.CreateResponseAsync(again, cancellation);

        Assert.Equal(ResponseStatus.Completed, second.Value.Status);
        Assert.True(second.GetRawResponse().Headers.TryGetValue("x-mixproxy-dropped", out var dropped));
        Assert.Equal("input[2]", dropped);
        var contents = LastUpstreamBody(gateway, Gemini)["contents"]!.AsArray();
        Assert.Equal(3, contents.Count);
        Assert.Equal("Here is your cat.", contents[1]!["parts"]![0]!["text"]!.GetValue<string>());
    }

    private static ResponsesClient Client(GatewayFixture gateway) =>
        new(new ApiKeyCredential(GatewayFixture.ClientKey), new ResponsesClientOptions { Endpoint = new Uri(gateway.BaseAddress, "/v1") });

    /// <summary>The body of the last generation request the upstream got: Gemini's for a Gemini model, Chat Completions' for the others.</summary>
    private static JsonNode LastUpstreamBody(GatewayFixture gateway, string model)
    {
        bool Generation(RecordedRequest r) => model.StartsWith("gemini", StringComparison.Ordinal)
            ? r.Path.EndsWith(":generateContent", StringComparison.Ordinal) || r.Path.EndsWith(":streamGenerateContent", StringComparison.Ordinal)
            : r.Path == "/v1/chat/completions";
        return JsonNode.Parse(gateway.Upstream.Received.Last(Generation).Body)!;
    }
}
