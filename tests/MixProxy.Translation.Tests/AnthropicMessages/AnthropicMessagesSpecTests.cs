using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.AnthropicMessagesToOpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.AnthropicMessages;

/// <summary>
/// The Anthropic Messages API's client side and its bridges, beyond what the golden cases show: what a request must
/// carry, whose requests it claims, its error shapes, usage read from a passed-through stream, what is dropped and
/// reported (in the client's names), and the answers that cannot be used.
/// </summary>
public sealed class AnthropicMessagesSpecTests
{
    private const string ToGemini = "anthropic-messages-to-gemini";
    private const string ToChat = "anthropic-messages-to-openai-chat";
    private const string Passthrough = "anthropic-messages-passthrough";

    private static readonly UpstreamModelProfile Gpt = new() { UpstreamModel = "gpt-x" };
    private static readonly UpstreamModelProfile Gemini3 = new() { UpstreamModel = "gemini-3.1-pro-preview", Thinking = ThinkingStyle.Level, RequiresThoughtSignatures = true };

    [Theory]
    [InlineData("""{"model":"m","messages":[]}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":0,"messages":[]}""", "max_tokens")]
    [InlineData("""{"model":"m","max_tokens":1.5,"messages":[]}""", "max_tokens")]
    [InlineData("""{"max_tokens":10,"messages":[]}""", "model")]
    [InlineData("""{"model":"m","max_tokens":10,"stream":"yes","messages":[]}""", "stream")]
    public void Parse_AMessageWithoutItsRequiredFields_IsRefusedNamingTheField(string body, string field)
    {
        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Parse(ToGemini, body));

        Assert.Equal(field, error.Param);
        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public void Parse_CountTokens_NeedsNoOutputCap_ButRefusesAStream()
    {
        var request = ExchangeHarness.Parse(ToGemini, """{"model":"m","messages":[{"role":"user","content":"Hi"}]}""", countTokens: true);
        Assert.False(request.Endpoint.Generates);
        Assert.Null(request.MaxOutputTokens);

        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Parse(ToGemini, """{"model":"m","stream":true,"messages":[]}""", countTokens: true));
        Assert.Equal("stream", error.Param);
    }

    [Theory]
    [InlineData("/v1/models", "anthropic-version", true)]
    [InlineData("/v1/messages/batches", null, true)]
    [InlineData("/v1/messages", null, true)]
    [InlineData("/v1/messagesX", null, false)]
    [InlineData("/v1/models", null, false)]
    public void Claims_ARequestThatSendsAnthropicVersionOrIsUnderMessages(string path, string? header, bool claimed)
    {
        var head = new ExchangeHarness.FakeHead { Path = path };
        if (header is not null)
        {
            head.Headers[header] = "2023-06-01";
        }

        Assert.Equal(claimed, AnthropicMessagesClientApi.Instance.Claims(head));
        Assert.Equal(claimed ? AnthropicMessagesClientApi.Instance : ProtocolRegistry.Default.ClientApis[0], ProtocolRegistry.Default.ClientApiFor(head));
    }

    [Theory]
    [InlineData(400, ClientErrorKind.None, "invalid_request_error")]
    [InlineData(401, ClientErrorKind.InvalidKey, "authentication_error")]
    [InlineData(403, ClientErrorKind.ModelNotAllowed, "permission_error")]
    [InlineData(404, ClientErrorKind.UnknownModel, "not_found_error")]
    [InlineData(429, ClientErrorKind.RateLimited, "rate_limit_error")]
    [InlineData(503, ClientErrorKind.None, "overloaded_error")]
    [InlineData(502, ClientErrorKind.BadUpstream, "api_error")]
    [InlineData(500, ClientErrorKind.None, "api_error")]
    public void ErrorBody_IsAnthropicsShape_WithTheTypeItsStatusHasThere(int status, ClientErrorKind kind, string type)
    {
        var body = JsonNode.Parse(AnthropicMessagesClientApi.Instance.ErrorBody(new ClientError(status, "Nope.", "tools[0].name", kind)))!;

        Assert.Equal("error", body["type"]!.GetValue<string>());
        Assert.Equal(type, body["error"]!["type"]!.GetValue<string>());
        Assert.Equal("tools[0].name: Nope.", body["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task PassthroughStream_MergesTheInputOfMessageStartWithTheOutputOfMessageDelta()
    {
        var call = ExchangeHarness.Begin(Passthrough, ExchangeHarness.MinimalRequest(Passthrough, stream: true), Gpt);
        const string Upstream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

        var streamed = await ExchangeHarness.TranslateStreamAsync(call, Upstream, TestContext.Current.CancellationToken);

        Assert.Contains("event: message_delta\n", streamed, StringComparison.Ordinal);
        Assert.Equal(new TokenUsage(30, 15, 45, 0, 5), call.Outcome.Usage);
        Assert.False(call.Outcome.Faulted);
    }

    [Fact]
    public async Task PassthroughStream_WithoutMessageStop_IsIncomplete()
    {
        var call = ExchangeHarness.Begin(Passthrough, ExchangeHarness.MinimalRequest(Passthrough, stream: true), Gpt);

        await ExchangeHarness.TranslateStreamAsync(call, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n", TestContext.Current.CancellationToken);

        Assert.True(call.Outcome.Faulted);
    }

    [Fact]
    public void ChatUpstream_DropsTopKAndThinkingOnAModelWithout_ReportingThemInTheClientsNames()
    {
        var request = ExchangeHarness.Parse(ToChat, """{"model":"m","max_tokens":100,"top_k":3,"thinking":{"type":"adaptive"},"service_tier":"auto","messages":[{"role":"user","content":"Hi"}]}""");

        var call = ExchangeHarness.Begin(ToChat, request, Gpt);

        Assert.Equal(["service_tier", "top_k", "thinking"], call.Dropped);
        var sent = JsonNode.Parse(call.Request.Body!.Value.Span)!;
        Assert.Null(sent["top_k"]);
        Assert.Null(sent["reasoning_effort"]);
    }

    [Fact]
    public void StrictModel_RefusesWhatItWouldDrop()
    {
        var request = ExchangeHarness.Parse(ToChat, """{"model":"m","max_tokens":100,"top_k":3,"messages":[{"role":"user","content":"Hi"}]}""");

        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(ToChat, request, Gpt with { StrictTranslation = true }));

        Assert.Equal("top_k", error.Param);
    }

    [Fact]
    public void ChatSideRefusal_NamesTheAnthropicField()
    {
        // A tool name Gemini refuses is caught by the Chat side, which names it as Chat does (tools[0].function.name).
        var request = ExchangeHarness.Parse(ToGemini, """{"model":"m","max_tokens":100,"tools":[{"name":"bad name!","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"Hi"}]}""");

        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(ToGemini, request, Gemini3));

        Assert.Equal("tools[0].name", error.Param);
        Assert.Contains("served through Chat Completions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SignaturesToRecall_AreTheToolUsesNoSealedThinkingBlockPrecedes()
    {
        var request = ExchangeHarness.Parse(ToGemini, """
            {"model":"m","max_tokens":100,"messages":[
              {"role":"user","content":"Hi"},
              {"role":"assistant","content":[
                {"type":"thinking","thinking":"","signature":"mixproxy.thought_signature.v1:c2ln"},
                {"type":"tool_use","id":"signed","name":"f","input":{}},
                {"type":"tool_use","id":"parallel","name":"f","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"signed","content":"1"},{"type":"tool_result","tool_use_id":"parallel","content":"2"}]},
              {"role":"assistant","content":[{"type":"thinking","thinking":"x","signature":"claude-own-signature"},{"type":"tool_use","id":"claude","name":"f","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"claude","content":"3"}]}]}
            """);

        Assert.Equal(["parallel", "claude"], ExchangeHarness.ExchangeFor(ToGemini).SignaturesToRecall(request));
        Assert.Empty(ExchangeHarness.ExchangeFor(ToChat).SignaturesToRecall(request));
    }

    [Fact]
    public void ChatAnswer_WithToolArgumentsThatAreNoJsonObject_IsUnusable()
    {
        var call = ExchangeHarness.Begin(ToChat, ExchangeHarness.MinimalRequest(ToChat, stream: false), Gpt);
        const string Reply = """{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{broken"}}]},"finish_reason":"tool_calls"}]}""";

        Assert.Throws<UpstreamResponseException>(() => call.TranslateResponse(Encoding.UTF8.GetBytes(Reply), "application/json", new ArrayBufferWriter<byte>()));
    }

    [Theory]
    [InlineData("""{"totalTokens":7}""", 7)]
    [InlineData("""{}""", 0)]
    public void CountTokens_OnGemini_AnswersInputTokens(string reply, long tokens)
    {
        var request = ExchangeHarness.Parse(ToGemini, """{"model":"m","messages":[{"role":"user","content":"Hi"}]}""", countTokens: true);
        var call = ExchangeHarness.Begin(ToGemini, request, Gemini3);

        var body = JsonNode.Parse(ExchangeHarness.TranslateResponse(call, reply))!;

        Assert.Equal(tokens, body["input_tokens"]!.GetValue<long>());
        Assert.Equal("/v1beta/models/gemini-3.1-pro-preview:countTokens", call.Request.Path);
    }

    [Theory]
    [InlineData("tools[2].function.parameters", "tools[2].input_schema")]
    [InlineData("tools[0].function.name", "tools[0].name")]
    [InlineData("messages[3].content", "messages")]
    [InlineData("max_completion_tokens", "max_tokens")]
    [InlineData("stop", "stop_sequences")]
    [InlineData("extra_body.google.thinking_config.thinking_budget", "thinking")]
    [InlineData("response_format.json_schema.schema", "output_config.format")]
    [InlineData("top_k", "top_k")]
    public void AnthropicParam_NamesTheFieldAChatFieldWasWrittenFrom(string chat, string anthropic) =>
        Assert.Equal(anthropic, MessagesOverChatExchange.AnthropicParam(chat));
}
