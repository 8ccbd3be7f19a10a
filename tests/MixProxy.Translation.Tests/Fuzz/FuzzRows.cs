using System.Text.Json;
using System.Text.Json.Nodes;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.Fuzz;

/// <summary>
/// The fuzzer's tables: a row per client API and per upstream protocol of <see cref="ProtocolRegistry.Default"/>. A
/// protocol added to the registry is fuzzed as soon as it has its rows, and the fuzz tests fail, saying what to add,
/// until it has.
/// </summary>
internal static class FuzzRows
{
    public static IReadOnlyList<FuzzClientRow> Clients { get; } =
    [
        new("OpenAI Chat Completions", _ => new ExchangeHarness.FakeHead(),
            ["model", "messages", "role", "content", "type", "text", "tool_calls", "tool_call_id", "function", "name", "arguments", "tools", "parameters", "temperature", "max_tokens", "max_completion_tokens", "stream", "stream_options", "include_usage", "stop", "n", "response_format", "tool_choice", "reasoning_effort", "image_url", "url", "logprobs", "seed", "user"],
            ChatWrite, ChatFacts,
            whole => Concat(JsonNode.Parse(whole)?["choices"]?[0]?["message"]?["content"]),
            stream => string.Concat(SseData(stream).Select(e => Concat(e["choices"]?[0]?["delta"]?["content"])))),
        new("Gemini", GeminiHead,
            ["contents", "role", "parts", "text", "functionCall", "functionResponse", "name", "args", "response", "systemInstruction", "tools", "functionDeclarations", "parameters", "toolConfig", "functionCallingConfig", "mode", "allowedFunctionNames", "generationConfig", "maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "candidateCount", "responseMimeType", "responseSchema", "thinkingConfig", "thinkingBudget", "thinkingLevel", "inlineData", "mimeType", "data", "fileData", "fileUri", "safetySettings", "thought"],
            GeminiWrite, GeminiFacts,
            whole => GeminiText(JsonNode.Parse(whole)),
            stream => string.Concat(stream.TrimStart().StartsWith('[') ? JsonNode.Parse(stream)!.AsArray().Select(GeminiText) : SseData(stream).Select(GeminiText))),
        new("OpenAI Responses", _ => new ExchangeHarness.FakeHead(),
            ["model", "input", "instructions", "role", "content", "type", "text", "call_id", "name", "arguments", "output", "tools", "parameters", "store", "stream", "temperature", "max_output_tokens", "reasoning", "effort", "tool_choice", "previous_response_id", "include", "metadata", "top_p", "truncation", "parallel_tool_calls"],
            ResponsesWrite, ResponsesFacts,
            whole => string.Concat(JsonNode.Parse(whole)?["output"]?.AsArray().SelectMany(item => item?["content"]?.AsArray() ?? []).Where(c => c?["type"]?.GetValue<string>() == "output_text").Select(c => c!["text"]!.GetValue<string>()) ?? []),
            stream => string.Concat(SseData(stream).Where(e => e["type"]?.GetValue<string>() == "response.output_text.delta").Select(e => e["delta"]!.GetValue<string>()))),
        new("Anthropic Messages", _ => new ExchangeHarness.FakeHead(),
            ["model", "max_tokens", "messages", "role", "content", "type", "text", "system", "tool_use", "tool_result", "tool_use_id", "id", "name", "input", "is_error", "tools", "input_schema", "description", "tool_choice", "disable_parallel_tool_use", "temperature", "top_p", "top_k", "stop_sequences", "stream", "metadata", "user_id", "thinking", "budget_tokens", "output_config", "effort", "format", "image", "source", "media_type", "data", "url", "document", "cache_control", "signature"],
            AnthropicWrite, AnthropicFacts,
            whole => string.Concat(JsonNode.Parse(whole)?["content"]?.AsArray().Where(b => b?["type"]?.GetValue<string>() == "text").Select(b => b!["text"]!.GetValue<string>()) ?? []),
            stream => string.Concat(SseData(stream).Where(e => e["type"]?.GetValue<string>() == "content_block_delta" && e["delta"]?["type"]?.GetValue<string>() == "text_delta").Select(e => e["delta"]!["text"]!.GetValue<string>())),
            AnthropicForEndpoint),
    ];

    public static IReadOnlyList<FuzzUpstreamRow> Upstreams { get; } =
    [
        new("Gemini", new UpstreamModelProfile { UpstreamModel = "gemini-x", Thinking = ThinkingStyle.Level },
            texts => new JsonObject
            {
                ["candidates"] = new JsonArray(new JsonObject { ["content"] = new JsonObject { ["role"] = "model", ["parts"] = new JsonArray([.. texts.Select(t => new JsonObject { ["text"] = t })]) }, ["finishReason"] = "STOP", ["index"] = 0 }),
                ["usageMetadata"] = new JsonObject { ["promptTokenCount"] = 3, ["candidatesTokenCount"] = texts.Count, ["totalTokenCount"] = 3 + texts.Count },
                ["modelVersion"] = "gemini-x",
                ["responseId"] = "r1",
            },
            texts => Sse([
                .. texts.Select(t => new JsonObject { ["candidates"] = new JsonArray(new JsonObject { ["content"] = new JsonObject { ["role"] = "model", ["parts"] = new JsonArray(new JsonObject { ["text"] = t }) }, ["index"] = 0 }), ["responseId"] = "r1" }.ToJsonString()),
                """{"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5},"responseId":"r1"}""",
            ]),
            ["candidates", "content", "role", "parts", "text", "functionCall", "name", "args", "finishReason", "index", "usageMetadata", "promptTokenCount", "candidatesTokenCount", "totalTokenCount", "thoughtsTokenCount", "safetyRatings", "groundingMetadata", "citationMetadata", "thought", "thoughtSignature", "promptFeedback", "blockReason", "error", "code", "message", "status"],
            GeminiFacts),
        new("OpenAI", new UpstreamModelProfile { UpstreamModel = "gpt-x" },
            texts => new JsonObject
            {
                ["id"] = "c1", ["object"] = "chat.completion", ["created"] = 1, ["model"] = "gpt-x",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = string.Concat(texts) }, ["finish_reason"] = "stop" }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = 3, ["completion_tokens"] = texts.Count, ["total_tokens"] = 3 + texts.Count },
            },
            texts => Sse([
                .. texts.Select(t => new JsonObject { ["id"] = "c1", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = "gpt-x", ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = t }, ["finish_reason"] = null }) }.ToJsonString()),
                """{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}""",
                "[DONE]",
            ]),
            ["id", "object", "created", "model", "choices", "index", "message", "delta", "role", "content", "refusal", "tool_calls", "function", "name", "arguments", "finish_reason", "usage", "prompt_tokens", "completion_tokens", "total_tokens", "logprobs", "annotations", "error", "type", "code"],
            ChatFacts),
        new("OpenAIResponses", new UpstreamModelProfile { UpstreamModel = "gpt-x" },
            texts => JsonNode.Parse(ResponsesObject(string.Concat(texts)))!.AsObject(),
            texts => Sse([
                """{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}""",
                .. texts.Select((t, i) => new JsonObject { ["type"] = "response.output_text.delta", ["sequence_number"] = i + 1, ["item_id"] = "msg_1", ["output_index"] = 0, ["content_index"] = 0, ["delta"] = t }.ToJsonString()),
                $$"""{"type":"response.completed","sequence_number":{{texts.Count + 1}},"response":{{ResponsesObject(string.Concat(texts))}}}""",
            ], named: true),
            ["id", "object", "status", "output", "type", "role", "content", "text", "annotations", "call_id", "name", "arguments", "usage", "input_tokens", "output_tokens", "total_tokens", "error", "incomplete_details", "reason", "model"],
            ResponsesFacts),
        new("Anthropic", new UpstreamModelProfile { UpstreamModel = "claude-x", Thinking = ThinkingStyle.Budget },
            texts => JsonNode.Parse(AnthropicMessage(texts))!.AsObject(),
            texts => Sse([
                """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}""",
                """{"type":"ping"}""",
                """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
                .. texts.Select(t => new JsonObject { ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = t } }.ToJsonString()),
                """{"type":"content_block_stop","index":0}""",
                new JsonObject { ["type"] = "message_delta", ["delta"] = new JsonObject { ["stop_reason"] = "end_turn", ["stop_sequence"] = null }, ["usage"] = new JsonObject { ["output_tokens"] = texts.Count } }.ToJsonString(),
                """{"type":"message_stop"}""",
            ], named: true),
            ["id", "type", "role", "model", "content", "text", "tool_use", "name", "input", "thinking", "signature", "stop_reason", "stop_sequence", "usage", "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "message", "index", "delta", "content_block", "error"],
            AnthropicFacts),
    ];

    public static FuzzClientRow Client(ClientApi api) =>
        Clients.SingleOrDefault(r => r.ApiName == api.Name) ?? throw new Xunit.Sdk.XunitException(
            $"The client API '{api.Name}' is registered in ProtocolRegistry.Default but has no row in tests/MixProxy.Translation.Tests/Fuzz/FuzzRows.cs. " +
            $"Add to FuzzRows.Clients: new(\"{api.Name}\", Head: endpoint => <its request head>, Vocabulary: [<its request field names>], Write: (conversation, stream) => <the conversation as its request>, " +
            "ReadFacts: body => <the conversation facts of its request>, TextOfWhole: body => <the answer text of its response>, TextOfStream: sse => <the answer text of its stream>).");

    public static FuzzUpstreamRow Upstream(WireProtocol protocol) =>
        Upstreams.SingleOrDefault(r => r.ProtocolName == protocol.Name) ?? throw new Xunit.Sdk.XunitException(
            $"The upstream protocol '{protocol.Name}' is registered in ProtocolRegistry.Default but has no row in tests/MixProxy.Translation.Tests/Fuzz/FuzzRows.cs. " +
            $"Add to FuzzRows.Upstreams: new(\"{protocol.Name}\", Profile: <a model profile>, Whole: texts => <its whole answer with the texts>, Stream: texts => <its SSE stream with the texts>, " +
            "Vocabulary: [<its answer field names>], ReadFacts: body => <the conversation facts of a request in it>).");

    /// <summary>Every (endpoint, upstream protocol) the registry has an exchange for.</summary>
    public static IEnumerable<(ClientEndpoint Endpoint, WireProtocol Upstream, Exchange Exchange)> Routes() =>
        from api in ProtocolRegistry.Default.ClientApis
        from endpoint in api.Endpoints
        from upstream in ProtocolRegistry.Default.UpstreamProtocols
        let exchange = ProtocolRegistry.Default.FindExchange(api, [upstream])
        where exchange is not null && exchange.Upstream == upstream
        select (endpoint, upstream, exchange);

    public static ExchangeSettings Settings(WireProtocol upstream) => new() { Model = Upstream(upstream).Profile, Created = ExchangeHarness.Created };

    private static ExchangeHarness.FakeHead GeminiHead(ClientEndpoint endpoint)
    {
        var head = new ExchangeHarness.FakeHead();
        head.RouteValues[GeminiVocabulary.ModelRouteValue] = "gemini-x";
        head.RouteValues[GeminiVocabulary.VersionRouteValue] = GeminiVocabulary.DefaultVersion;
        if (endpoint == GeminiClientApi.Instance.StreamGenerateContent)
        {
            head.QueryValues[GeminiVocabulary.AltQuery] = GeminiVocabulary.SseAlt;
        }

        return head;
    }

    // :: Chat Completions ---------------------------------------------------------------------------

    private static JsonObject ChatWrite(Conversation conversation, bool stream)
    {
        var messages = new JsonArray();
        if (conversation.System is { } system)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
        }

        var t = 0;
        IReadOnlyList<Call> pending = [];
        foreach (var turn in conversation.Turns)
        {
            ChatResults(messages, pending, t - 1);
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = turn.User });
            if (turn.Answer.Text is { } text)
            {
                messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = text });
            }
            else
            {
                messages.Add(new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["tool_calls"] = new JsonArray([.. turn.Answer.Calls.Select((call, i) => new JsonObject { ["id"] = $"call_{t}_{i}", ["type"] = "function", ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.Arguments.ToJsonString() } })]),
                });
            }

            pending = turn.Answer.Calls;
            t++;
        }

        ChatResults(messages, pending, t - 1);
        var body = new JsonObject { ["model"] = "m", ["messages"] = messages, ["stream"] = stream };
        if (Names(conversation) is { Count: > 0 } names)
        {
            body["tools"] = new JsonArray([.. names.Select(name => new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name, ["parameters"] = new JsonObject { ["type"] = "object" } } })]);
        }

        return body;
    }

    private static void ChatResults(JsonArray messages, IReadOnlyList<Call> calls, int turn)
    {
        for (var i = 0; i < calls.Count; i++)
        {
            messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = $"call_{turn}_{i}", ["content"] = "result of " + calls[i].Name });
        }
    }

    private static List<string> ChatFacts(JsonNode body)
    {
        var facts = new List<string>();
        foreach (var message in body["messages"]!.AsArray())
        {
            var role = message!["role"]!.GetValue<string>();
            var text = Concat(message["content"]);
            switch (role)
            {
                case "system" or "developer":
                    facts.Add(Fact.Text("system", text));
                    break;
                case "user":
                    facts.Add(Fact.Text("user", text));
                    break;
                case "assistant":
                    if (text.Length > 0)
                    {
                        facts.Add(Fact.Text("model", text));
                    }

                    facts.AddRange((message["tool_calls"]?.AsArray() ?? []).Select(call => Fact.Call(call!["function"]!["name"]!.GetValue<string>(), JsonNode.Parse(call["function"]!["arguments"]!.GetValue<string>()))));
                    break;
            }
        }

        return facts;
    }

    // :: Gemini -------------------------------------------------------------------------------------

    private static JsonObject GeminiWrite(Conversation conversation, bool stream)
    {
        var contents = new JsonArray();
        IReadOnlyList<Call> pending = [];
        foreach (var turn in conversation.Turns)
        {
            GeminiResults(contents, pending);
            contents.Add(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["text"] = turn.User }) });
            contents.Add(new JsonObject
            {
                ["role"] = "model",
                ["parts"] = turn.Answer.Text is { } text
                    ? new JsonArray(new JsonObject { ["text"] = text })
                    : new JsonArray([.. turn.Answer.Calls.Select(call => new JsonObject { ["functionCall"] = new JsonObject { ["name"] = call.Name, ["args"] = call.Arguments.DeepClone() } })]),
            });
            pending = turn.Answer.Calls;
        }

        GeminiResults(contents, pending);
        var body = new JsonObject { ["contents"] = contents };
        if (conversation.System is { } system)
        {
            body["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = system }) };
        }

        if (Names(conversation) is { Count: > 0 } names)
        {
            body["tools"] = new JsonArray(new JsonObject { ["functionDeclarations"] = new JsonArray([.. names.Select(name => new JsonObject { ["name"] = name, ["parameters"] = new JsonObject { ["type"] = "object" } })]) });
        }

        return body;
    }

    private static void GeminiResults(JsonArray contents, IReadOnlyList<Call> calls)
    {
        if (calls.Count > 0)
        {
            contents.Add(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray([.. calls.Select(call => new JsonObject { ["functionResponse"] = new JsonObject { ["name"] = call.Name, ["response"] = new JsonObject { ["result"] = "result of " + call.Name } } })]) });
        }
    }

    private static List<string> GeminiFacts(JsonNode body)
    {
        var facts = new List<string>();
        if (body["systemInstruction"]?["parts"] is JsonArray system)
        {
            facts.Add(Fact.Text("system", string.Join("\n", system.Select(p => p?["text"]?.GetValue<string>()).OfType<string>())));
        }

        foreach (var content in body["contents"]!.AsArray())
        {
            var who = content!["role"]?.GetValue<string>() == "model" ? "model" : "user";
            var texts = content["parts"]!.AsArray().Where(p => p?["text"] is not null && p["thought"] is null).Select(p => p!["text"]!.GetValue<string>()).ToList();
            if (texts.Count > 0)
            {
                facts.Add(Fact.Text(who, string.Concat(texts)));
            }

            facts.AddRange(content["parts"]!.AsArray().Where(p => p?["functionCall"] is not null).Select(p => Fact.Call(p!["functionCall"]!["name"]!.GetValue<string>(), p["functionCall"]!["args"] ?? new JsonObject())));
        }

        return facts;
    }

    private static string GeminiText(JsonNode? answer) =>
        string.Concat(answer?["candidates"]?[0]?["content"]?["parts"]?.AsArray().Where(p => p?["thought"] is null).Select(p => p?["text"]?.GetValue<string>()) ?? []);

    // :: Responses API ------------------------------------------------------------------------------

    private static JsonObject ResponsesWrite(Conversation conversation, bool stream)
    {
        var input = new JsonArray();
        var t = 0;
        IReadOnlyList<Call> pending = [];
        foreach (var turn in conversation.Turns)
        {
            ResponsesResults(input, pending, t - 1);
            input.Add(new JsonObject { ["role"] = "user", ["content"] = turn.User });
            if (turn.Answer.Text is { } text)
            {
                input.Add(new JsonObject { ["role"] = "assistant", ["content"] = text });
            }

            for (var i = 0; i < turn.Answer.Calls.Count; i++)
            {
                input.Add(new JsonObject { ["type"] = "function_call", ["call_id"] = $"call_{t}_{i}", ["name"] = turn.Answer.Calls[i].Name, ["arguments"] = turn.Answer.Calls[i].Arguments.ToJsonString() });
            }

            pending = turn.Answer.Calls;
            t++;
        }

        ResponsesResults(input, pending, t - 1);
        var body = new JsonObject { ["model"] = "m", ["input"] = input, ["store"] = false, ["stream"] = stream };
        if (conversation.System is { } system)
        {
            body["instructions"] = system;
        }

        if (Names(conversation) is { Count: > 0 } names)
        {
            body["tools"] = new JsonArray([.. names.Select(name => new JsonObject { ["type"] = "function", ["name"] = name, ["parameters"] = new JsonObject { ["type"] = "object" } })]);
        }

        return body;
    }

    private static void ResponsesResults(JsonArray input, IReadOnlyList<Call> calls, int turn)
    {
        for (var i = 0; i < calls.Count; i++)
        {
            input.Add(new JsonObject { ["type"] = "function_call_output", ["call_id"] = $"call_{turn}_{i}", ["output"] = "result of " + calls[i].Name });
        }
    }

    private static List<string> ResponsesFacts(JsonNode body)
    {
        var facts = new List<string>();
        if (body["instructions"] is { } instructions)
        {
            facts.Add(Fact.Text("system", instructions.GetValue<string>()));
        }

        foreach (var item in body["input"]!.AsArray())
        {
            if (item!["type"]?.GetValue<string>() == "function_call")
            {
                facts.Add(Fact.Call(item["name"]!.GetValue<string>(), JsonNode.Parse(item["arguments"]!.GetValue<string>())));
            }
            else if (item["role"]?.GetValue<string>() is { } role)
            {
                facts.Add(Fact.Text(role == "assistant" ? "model" : role is "system" or "developer" ? "system" : "user", Concat(item["content"])));
            }
        }

        return facts;
    }

    private static string ResponsesObject(string text) =>
        new JsonObject
        {
            ["id"] = "resp_1", ["object"] = "response", ["created_at"] = 1, ["status"] = "completed", ["model"] = "gpt-x",
            ["output"] = new JsonArray(new JsonObject { ["type"] = "message", ["id"] = "msg_1", ["status"] = "completed", ["role"] = "assistant", ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() }) }),
            ["usage"] = new JsonObject { ["input_tokens"] = 3, ["output_tokens"] = 2, ["total_tokens"] = 5 },
        }.ToJsonString();

    // :: Anthropic Messages --------------------------------------------------------------------------

    /// <summary>
    /// The conversation as a Messages request: tool results open the next user turn; Anthropic continues a final
    /// assistant message (prefill) rather than answering it, so a conversation ending on the model's text is asked
    /// to go on by a closing user message, and one ending on calls by their results.
    /// </summary>
    private static JsonObject AnthropicWrite(Conversation conversation, bool stream)
    {
        var messages = new JsonArray();
        var t = 0;
        IReadOnlyList<Call> pending = [];
        foreach (var turn in conversation.Turns)
        {
            var user = AnthropicResults(pending, t - 1);
            user.Add(new JsonObject { ["type"] = "text", ["text"] = turn.User });
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = user });
            messages.Add(new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = turn.Answer.Text is { } text
                    ? new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text })
                    : new JsonArray([.. turn.Answer.Calls.Select((call, i) => new JsonObject { ["type"] = "tool_use", ["id"] = $"toolu_{t}_{i}", ["name"] = call.Name, ["input"] = call.Arguments.DeepClone() })]),
            });
            pending = turn.Answer.Calls;
            t++;
        }

        var closing = AnthropicResults(pending, t - 1);
        if (closing.Count == 0)
        {
            closing.Add(new JsonObject { ["type"] = "text", ["text"] = AnthropicClosing });
        }

        messages.Add(new JsonObject { ["role"] = "user", ["content"] = closing });
        var body = new JsonObject { ["model"] = "m", ["max_tokens"] = 1024, ["messages"] = messages, ["stream"] = stream };
        if (conversation.System is { } system)
        {
            body["system"] = system;
        }

        if (Names(conversation) is { Count: > 0 } names)
        {
            body["tools"] = new JsonArray([.. names.Select(name => new JsonObject { ["name"] = name, ["input_schema"] = new JsonObject { ["type"] = "object" } })]);
        }

        return body;
    }

    /// <summary><c>count_tokens</c> takes a message's body but its output cap and stream flag.</summary>
    private static JsonObject AnthropicForEndpoint(ClientEndpoint endpoint, JsonObject body)
    {
        if (!endpoint.Generates)
        {
            body.Remove("max_tokens");
            body.Remove("stream");
        }

        return body;
    }

    /// <summary>The text of the user message that closes a conversation ending on the model's text (not one of its facts).</summary>
    private const string AnthropicClosing = "Go on.";

    private static JsonArray AnthropicResults(IReadOnlyList<Call> calls, int turn) =>
        [.. calls.Select((call, i) => new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = $"toolu_{turn}_{i}", ["content"] = "result of " + call.Name })];

    private static List<string> AnthropicFacts(JsonNode body)
    {
        var facts = new List<string>();
        if (body["system"] is { } system)
        {
            facts.Add(Fact.Text("system", Concat(system)));
        }

        foreach (var message in body["messages"]!.AsArray())
        {
            var who = message!["role"]!.GetValue<string>() == "assistant" ? "model" : "user";
            var blocks = message["content"] is JsonArray array ? array.ToList() : [new JsonObject { ["type"] = "text", ["text"] = message["content"]!.GetValue<string>() }];
            var text = string.Concat(blocks.Where(b => b?["type"]?.GetValue<string>() == "text").Select(b => b!["text"]!.GetValue<string>()));
            if (text.Length > 0)
            {
                facts.Add(Fact.Text(who, text));
            }

            facts.AddRange(blocks.Where(b => b?["type"]?.GetValue<string>() == "tool_use").Select(b => Fact.Call(b!["name"]!.GetValue<string>(), b["input"])));
        }

        return facts;
    }

    private static string AnthropicMessage(IReadOnlyList<string> texts) =>
        new JsonObject
        {
            ["id"] = "msg_1", ["type"] = "message", ["role"] = "assistant", ["model"] = "claude-x",
            ["content"] = new JsonArray([.. texts.Select(t => new JsonObject { ["type"] = "text", ["text"] = t })]),
            ["stop_reason"] = "end_turn", ["stop_sequence"] = null,
            ["usage"] = new JsonObject { ["input_tokens"] = 3, ["cache_creation_input_tokens"] = 0, ["cache_read_input_tokens"] = 0, ["output_tokens"] = texts.Count },
        }.ToJsonString();

    // :: Shared -------------------------------------------------------------------------------------

    private static List<string> Names(Conversation conversation) =>
        [.. conversation.Turns.SelectMany(turn => turn.Answer.Calls).Select(call => call.Name).Distinct(StringComparer.Ordinal)];

    /// <summary>A content's text: a string, or its text parts run together.</summary>
    private static string Concat(JsonNode? content) => content switch
    {
        null => string.Empty,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>())),
        _ => string.Empty,
    };

    private static string Sse(IEnumerable<string> events, bool named = false) =>
        string.Concat(events.Select(e => (named && JsonNode.Parse(e)?["type"]?.GetValue<string>() is { } type ? $"event: {type}\n" : string.Empty) + "data: " + e + "\n\n"));

    /// <summary>The JSON data of each SSE event (<c>[DONE]</c> and blank events left out).</summary>
    public static IEnumerable<JsonNode> SseData(string sse) =>
        sse.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => string.Concat(e.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].TrimStart())))
            .Where(d => d.Length > 0 && d != "[DONE]")
            .Select(d => JsonNode.Parse(d)!);
}
