using System.ClientModel;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace MixProxy.Tests;

/// <summary>
/// A multi-turn agent loop with parallel tool calls on a Gemini 3 upstream: the thought signatures the upstream
/// issued on the first turn must come back to it on the next, whatever the client kept.
/// </summary>
public sealed class AgentLoopTests
{
    // Turn 1: two parallel calls; as Gemini 3 does, only the first carries the step's signature.
    private const string ParallelCalls = """
        {"responseId":"turn-1","candidates":[{"content":{"role":"model","parts":[
          {"functionCall":{"id":"fc_paris","name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2lnbmF0dXJlLW9uZQ=="},
          {"functionCall":{"id":"fc_rome","name":"get_weather","args":{"city":"Rome"}}}]},"finishReason":"STOP"}],
         "usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":10,"totalTokenCount":30}}
        """;

    private const string FinalAnswer = """
        {"responseId":"turn-2","candidates":[{"content":{"role":"model","parts":[{"text":"Paris 21°C, Rome sunny."}]},"finishReason":"STOP"}],
         "usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":8,"totalTokenCount":48}}
        """;

    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool(
        "get_weather", "Current weather for a city", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));

    [Fact]
    public async Task OpenAISdkAgentLoop_ParallelToolCalls_SignaturesReturnToTheUpstream()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        gateway.Upstream.Enqueue(new ScriptedReply(Body: ParallelCalls));
        gateway.Upstream.Enqueue(new ScriptedReply(Body: FinalAnswer));
        var client = new ChatClient("gemini-3.1-pro-preview", new ApiKeyCredential(GatewayFixture.ClientKey), new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseAddress, "/v1") });
        List<ChatMessage> messages = [new UserChatMessage("Weather in Paris and Rome?")];
        var options = new ChatCompletionOptions { Tools = { Weather } };

        ChatCompletion first = await client.CompleteChatAsync(messages, options, TestContext.Current.CancellationToken);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        Assert.Equal(["fc_paris", "fc_rome"], first.ToolCalls.Select(c => c.Id));

        messages.Add(new AssistantChatMessage(first));
        foreach (var call in first.ToolCalls)
        {
            messages.Add(new ToolChatMessage(call.Id, call.Id == "fc_paris" ? "21°C" : "sunny"));
        }

        ChatCompletion second = await client.CompleteChatAsync(messages, options, TestContext.Current.CancellationToken);

        Assert.Equal("Paris 21°C, Rome sunny.", second.Content[0].Text);
        var replay = JsonNode.Parse(gateway.Upstream.Received.Last().Body)!["contents"]!.AsArray();
        var modelTurn = replay[1]!["parts"]!.AsArray();
        Assert.Equal("c2lnbmF0dXJlLW9uZQ==", modelTurn[0]!["thoughtSignature"]!.GetValue<string>());
        Assert.Null(modelTurn[1]!["thoughtSignature"]);
        var results = replay[2]!["parts"]!.AsArray();
        Assert.Equal(["get_weather", "get_weather"], results.Select(p => p!["functionResponse"]!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ClientThatDropsExtraContent_GetsTheSignatureRestoredFromTheCache()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        gateway.Upstream.Enqueue(new ScriptedReply(Body: ParallelCalls));
        gateway.Upstream.Enqueue(new ScriptedReply(Body: FinalAnswer));
        using var client = gateway.CreateClient();
        const string Tools = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]""";

        var (_, first, _) = await client.PostJsonAsync("/v1/chat/completions", $$"""{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Weather?"}],"tools":{{Tools}}}""");
        Assert.Equal("c2lnbmF0dXJlLW9uZQ==", first!["choices"]![0]!["message"]!["tool_calls"]![0]!["extra_content"]!["google"]!["thought_signature"]!.GetValue<string>());

        // The next turn carries the calls back without extra_content, as many clients do.
        var secondTurn = """
            {"model":"gemini-3.1-pro-preview","tools":TOOLS,"messages":[
              {"role":"user","content":"Weather?"},
              {"role":"assistant","content":null,"tool_calls":[
                {"id":"fc_paris","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
                {"id":"fc_rome","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
              {"role":"tool","tool_call_id":"fc_paris","content":"21°C"},
              {"role":"tool","tool_call_id":"fc_rome","content":"sunny"}]}
            """.Replace("TOOLS", Tools, StringComparison.Ordinal);
        await client.PostJsonAsync("/v1/chat/completions", secondTurn);

        var parts = JsonNode.Parse(gateway.Upstream.Received.Last().Body)!["contents"]![1]!["parts"]!.AsArray();
        Assert.Equal("c2lnbmF0dXJlLW9uZQ==", parts[0]!["thoughtSignature"]!.GetValue<string>());
    }
}
