using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// What the model map says a model can do decides how a request is translated: per-part media resolution,
/// the top_logprobs ceiling, call ids; and what the request asked for decides what the response keeps (citations).
/// </summary>
public sealed class ModelCapabilityTests
{
    private const string ImageRequest = """
        {"model":"MODEL","logprobs":true,"top_logprobs":8,"messages":[{"role":"user","content":[
          {"type":"text","text":"What is this?"},
          {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]}]}
        """;

    [Fact]
    public async Task ImageDetailAndTopLogprobs_FollowTheModelMap()
    {
        await using var gateway = await GatewayFixture.StartAsync(config =>
        {
            // The Gemini 3 entry (level thinking) takes per-part media resolution by default; the alias does not,
            // and returns at most 5 alternatives per token.
            config["Models"]![1]!["MaxTopLogprobs"] = 5;
        });
        using var client = gateway.CreateClient();

        var (gemini3, _, _) = await client.PostJsonAsync("/v1/chat/completions", ImageRequest.Replace("MODEL", "gemini-3.1-pro-preview", StringComparison.Ordinal));
        var (flash, _, _) = await client.PostJsonAsync("/v1/chat/completions", ImageRequest.Replace("MODEL", "alias-flash", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, gemini3);
        Assert.Equal(HttpStatusCode.OK, flash);
        var sent = gateway.Upstream.Received.Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal("MEDIA_RESOLUTION_LOW", sent[0]["contents"]![0]!["parts"]![1]!["mediaResolution"]!["level"]!.GetValue<string>());
        Assert.Equal(8, sent[0]["generationConfig"]!["logprobs"]!.GetValue<int>());
        Assert.Null(sent[1]["contents"]![0]!["parts"]![1]!["mediaResolution"]);
        Assert.Equal(5, sent[1]["generationConfig"]!["logprobs"]!.GetValue<int>());
    }

    [Fact]
    public async Task UnknownImageDetail_Is400NamingTheField()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", ImageRequest.Replace("MODEL", "gemini-3.1-pro-preview", StringComparison.Ordinal).Replace("\"low\"", "\"ultra\"", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertOpenAIError(body);
        Assert.Equal("messages[0].content[1].image_url.detail", body!["error"]!["param"]!.GetValue<string>());
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task FunctionCallIds_AreSentBackToGemini3_WhichIssuesThemAndToUpstreamsConfiguredForThem()
    {
        const string Replay = """
            {"model":"MODEL","messages":[{"role":"user","content":"Weather?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"fc_1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"fc_1","content":"sunny"}]}
            """;
        await using var gateway = await GatewayFixture.StartAsync(config => config["Models"]![1]!["FunctionCallIds"] = true);
        using var client = gateway.CreateClient();

        await client.PostJsonAsync("/v1/chat/completions", Replay.Replace("MODEL", "gemini-3.1-pro-preview", StringComparison.Ordinal));
        await client.PostJsonAsync("/v1/chat/completions", Replay.Replace("MODEL", "alias-flash", StringComparison.Ordinal));

        var sent = gateway.Upstream.Received.Select(r => JsonNode.Parse(r.Body)!["contents"]!).ToList();
        // Gemini 3 pairs results with calls by the ids it issued; a model that issues none gets them only when
        // configured (FunctionCallIdTests covers the ids the gateway mints, which never go back).
        Assert.Equal("fc_1", sent[0][1]!["parts"]![0]!["functionCall"]!["id"]!.GetValue<string>());
        Assert.Equal("fc_1", sent[0][2]!["parts"]![0]!["functionResponse"]!["id"]!.GetValue<string>());
        Assert.Equal("fc_1", sent[1][1]!["parts"]![0]!["functionCall"]!["id"]!.GetValue<string>());
        Assert.Equal("fc_1", sent[1][2]!["parts"]![0]!["functionResponse"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task SearchWithFunctions_AllowedOnGemini3AndRefusedClearlyElsewhere()
    {
        const string Request = """
            {"model":"MODEL","web_search_options":{},"messages":[{"role":"user","content":"x"}],
             "tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}]}
            """;
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (gemini3, _, _) = await client.PostJsonAsync("/v1/chat/completions", Request.Replace("MODEL", "gemini-3.1-pro-preview", StringComparison.Ordinal));
        var (flash, body, _) = await client.PostJsonAsync("/v1/chat/completions", Request.Replace("MODEL", "alias-flash", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, gemini3);
        Assert.True(JsonNode.Parse(Assert.Single(gateway.Upstream.Received).Body)!["toolConfig"]!["includeServerSideToolInvocations"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.BadRequest, flash);
        Assert.Equal("tools", body!["error"]!["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task StreamWithWebSearch_CitationsArriveOnTheFinishChunkWithOffsetsIntoTheWholeText()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        gateway.Upstream.Enqueue(new ScriptedReply(Events:
        [
            """{"responseId":"g","candidates":[{"content":{"role":"model","parts":[{"text":"Rome is sunny. "}]}}]}""",
            """{"responseId":"g","candidates":[{"content":{"role":"model","parts":[{"text":"Oslo is cold."}]},"finishReason":"STOP","groundingMetadata":{"groundingChunks":[{"web":{"uri":"https://a.example/rome","title":"a.example"}},{"web":{"uri":"https://b.example/oslo","title":"b.example"}}],"groundingSupports":[{"segment":{"endIndex":14},"groundingChunkIndices":[0]},{"segment":{"startIndex":15,"endIndex":28},"groundingChunkIndices":[1]}]}}]}""",
        ]));
        using var client = gateway.CreateClient();

        // The provider page's own spelling of the built-in search tool.
        using var response = await client.PostAsync(
            "/v1/chat/completions",
            new StringContent("""{"model":"gemini-3.1-pro-preview","stream":true,"messages":[{"role":"user","content":"Weather?"}],"tools":[{"type":"function","function":{"name":"web_search"}}]}""", Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);
        var events = (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e["data: ".Length..])
            .Where(e => e != "[DONE]")
            .Select(e => JsonNode.Parse(e)!["choices"]![0]!)
            .ToList();

        var finish = events.Single(e => e["finish_reason"]?.GetValue<string>() is not null);
        var citations = finish["delta"]!["annotations"]!.AsArray().Select(a => a!["url_citation"]!).ToList();
        Assert.Equal(["https://a.example/rome", "https://b.example/oslo"], citations.Select(c => c["url"]!.GetValue<string>()));
        var text = string.Concat(events.Select(e => e["delta"]!["content"]?.GetValue<string>()));
        Assert.Equal("Oslo is cold.", text[citations[1]["start_index"]!.GetValue<int>()..citations[1]["end_index"]!.GetValue<int>()]);
        Assert.Equal("[{\"googleSearch\":{}}]", JsonNode.Parse(Assert.Single(gateway.Upstream.Received).Body)!["tools"]!.ToJsonString());
    }
}
