using System.Buffers;
using System.Text;
using System.Text.Json;
using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>
/// Chat Completions chunks as Anthropic's named stream events, chunk by chunk: <c>message_start</c> and a
/// <c>ping</c> first; each content block opened (<c>content_block_start</c>), filled by deltas (<c>thinking_delta</c>
/// and its <c>signature_delta</c>, <c>text_delta</c> and <c>citations_delta</c>, <c>input_json_delta</c>) and closed
/// (<c>content_block_stop</c>) when the next one starts or the answer ends; then <c>message_delta</c> with the stop
/// reason and the usage (which Chat reports last), and <c>message_stop</c>. An upstream that fails midway ends the
/// stream with an <c>error</c> event. Tool calls go out whole, each as one block with its arguments in one
/// <c>input_json_delta</c>, once the upstream finished them: a Chat stream may interleave the arguments of several
/// calls, and an Anthropic stream has one block open at a time. One instance per response; not thread-safe.
/// </summary>
internal sealed class ChatToAnthropicStreamTranslator(AnthropicReplyContext context) : IStreamEventTranslator, IChatChunkTranslator
{
    private enum Block
    {
        None,
        Thinking,
        Text,
        ToolUse,
    }

    private readonly List<PendingCall> _pending = [];
    private readonly List<ChatToolCall> _calls = [];
    private readonly List<ChatUrlCitation> _citations = [];
    private readonly StringBuilder _text = new();
    private Block _open;
    private int _nextIndex;
    private bool _started;
    private bool _refused;
    private bool _calledTools;
    private string? _finishReason;
    private TokenUsage? _usage;

    public bool IsEnded { get; private set; }

    public bool Faulted { get; private set; }

    /// <summary>The Chat stream gave its finish reason: without one the answer may be cut anywhere.</summary>
    public bool AnswerComplete => _finishReason is not null;

    public void TranslateEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (!IsEnded)
        {
            ChatStreamEvents.Read(this, data, output);
        }
    }

    void IChatChunkTranslator.TranslateChunk(JsonElement chunk, IBufferWriter<byte> output) => Translate(chunk, output);

    void IChatChunkTranslator.FailOnBadEvent(IBufferWriter<byte> output, string message, string? detail) =>
        Fail(output, "api_error", detail is null ? message : message + " " + detail);

    public void Complete(IBufferWriter<byte> output)
    {
        if (IsEnded)
        {
            return;
        }

        if (_finishReason is null)
        {
            // Without a finish reason the answer may be cut anywhere: it is not passed off as complete.
            Fail(output, "api_error", "The upstream's stream ended before the answer was finished.");
            return;
        }

        Start(output);
        FlushCalls(output);
        Close(output);
        var reason = AnthropicReplyWriting.StopReason(_calledTools && _finishReason == "stop" ? "tool_calls" : _finishReason, _refused);
        AnthropicStreamEvents.Write(output, "message_delta", w =>
        {
            w.WritePropertyName("delta"u8);
            w.WriteStartObject();
            w.WriteString("stop_reason"u8, reason);
            w.WriteNull("stop_sequence"u8);
            w.WriteEndObject();
            w.WritePropertyName("usage"u8);
            AnthropicUsage.Write(w, _usage);
        });
        AnthropicStreamEvents.Write(output, "message_stop", static _ => { });
        IsEnded = true;
    }

    public void WriteFault(IBufferWriter<byte> output, StreamFault fault) =>
        Fail(output, "api_error", fault == StreamFault.Upstream
            ? "The upstream stopped mid-answer; the stream was ended."
            : "The gateway could not translate an upstream event; the stream was stopped.");

    private void Translate(JsonElement chunk, IBufferWriter<byte> output)
    {
        UpstreamFields.RequireObject(chunk, "stream event");
        if (UpstreamFields.Field(chunk, "error") is { ValueKind: JsonValueKind.Object } error)
        {
            // The upstream's own error event (or the inner translator's): the message failed here.
            // OpenAI names the kind in type, Google's status (restated by the Chat side) in code: either may say it.
            string[] kinds = [UpstreamFields.StringOrNone(UpstreamFields.Field(error, "type")) ?? string.Empty, UpstreamFields.StringOrNone(UpstreamFields.Field(error, "code")) ?? string.Empty];
            var type = kinds.Any(k => k is "rate_limit_error" or "rate_limit_exceeded" or "resource_exhausted")
                ? "rate_limit_error"
                : kinds.Any(k => k is "service_unavailable" or "unavailable" or "overloaded_error") ? "overloaded_error" : "api_error";
            Fail(output, type, UpstreamFields.StringOrNone(UpstreamFields.Field(error, "message")) ?? "The upstream failed midway.");
            return;
        }

        if (OpenAIChatUsage.Read(chunk) is { } usage)
        {
            _usage = usage;
        }

        Start(output);
        var choices = UpstreamFields.Field(chunk, "choices");
        if (choices.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var choice in choices.EnumerateArray())
        {
            UpstreamFields.RequireObject(choice, "choice");

            // An Anthropic request asks for one answer; a Chat upstream answering with more is not shown past the first.
            if ((UpstreamFields.Int32(UpstreamFields.Field(choice, "index"), "choice index") ?? 0) != 0)
            {
                continue;
            }

            var delta = UpstreamFields.Field(choice, "delta");
            var isObject = delta.ValueKind == JsonValueKind.Object;
            var reasoning = isObject ? UpstreamFields.String(UpstreamFields.Field(delta, "reasoning_content"), "delta.reasoning_content") : null;
            var text = isObject ? UpstreamFields.String(UpstreamFields.Field(delta, "content"), "delta.content") : null;
            var refusal = isObject ? UpstreamFields.String(UpstreamFields.Field(delta, "refusal"), "delta.refusal") : null;
            _calls.Clear();
            if (isObject && UpstreamFields.Field(delta, "tool_calls") is { ValueKind: JsonValueKind.Array } toolCalls)
            {
                var i = 0;
                foreach (var call in toolCalls.EnumerateArray())
                {
                    _calls.Add(ChatToolCallReader.Read(call, $"delta.tool_calls[{i++}]"));
                }
            }

            _citations.Clear();
            if (isObject)
            {
                ChatUrlCitations.Read(UpstreamFields.Field(delta, "annotations"), _citations);
            }

            var finish = UpstreamFields.String(UpstreamFields.Field(choice, "finish_reason"), "finish_reason");
            if (reasoning is { Length: > 0 } && context.ShowsThinking)
            {
                AppendThinking(reasoning, output);
            }

            if (refusal is { Length: > 0 })
            {
                _refused = true;
                AppendText(refusal, output);
            }

            if (text is { Length: > 0 })
            {
                AppendText(text, output);
            }

            foreach (var citation in _citations)
            {
                AddCitation(citation, output);
            }

            foreach (var call in _calls)
            {
                AddCall(call);
            }

            if (finish is not null)
            {
                FlushCalls(output);
            }

            _finishReason = finish ?? _finishReason;
        }
    }

    private void Start(IBufferWriter<byte> output)
    {
        if (_started)
        {
            return;
        }

        _started = true;

        // The usage comes last on a Chat stream: message_start reports none yet, message_delta all of it.
        AnthropicStreamEvents.Write(output, "message_start", w =>
        {
            w.WritePropertyName("message"u8);
            w.WriteStartObject();
            AnthropicReplyWriting.WriteHead(w, context);
            w.WritePropertyName("content"u8);
            w.WriteStartArray();
            w.WriteEndArray();
            w.WriteNull("stop_reason"u8);
            w.WriteNull("stop_sequence"u8);
            w.WritePropertyName("usage"u8);
            AnthropicUsage.Write(w, null);
            w.WriteEndObject();
        });
        AnthropicStreamEvents.Write(output, "ping", static _ => { });
    }

    private void AppendThinking(string delta, IBufferWriter<byte> output)
    {
        FlushCalls(output);
        if (_open != Block.Thinking)
        {
            Open(output, Block.Thinking, w =>
            {
                w.WriteString("type"u8, "thinking");
                w.WriteString("thinking"u8, string.Empty);
                w.WriteString("signature"u8, string.Empty);
            });
        }

        Delta(output, w =>
        {
            w.WriteString("type"u8, "thinking_delta");
            w.WriteString("thinking"u8, delta);
        });
    }

    private void AppendText(string delta, IBufferWriter<byte> output)
    {
        FlushCalls(output);
        if (_open != Block.Text)
        {
            Open(output, Block.Text, static w =>
            {
                w.WriteString("type"u8, "text");
                w.WriteString("text"u8, string.Empty);
            });
        }

        _text.Append(delta);
        Delta(output, w =>
        {
            w.WriteString("type"u8, "text_delta");
            w.WriteString("text"u8, delta);
        });
    }

    /// <summary>Citations come with the finish and refer to the text before them: they go in the text block, open or reopened empty.</summary>
    private void AddCitation(ChatUrlCitation citation, IBufferWriter<byte> output)
    {
        var text = _text.ToString();
        if (_open != Block.Text)
        {
            Open(output, Block.Text, static w =>
            {
                w.WriteString("type"u8, "text");
                w.WriteString("text"u8, string.Empty);
            });
        }

        Delta(output, w =>
        {
            w.WriteString("type"u8, "citations_delta");
            w.WritePropertyName("citation"u8);
            AnthropicReplyWriting.WriteCitation(w, citation, text);
        });
    }

    /// <summary>A call, or a fragment of one: gathered by its index until the upstream finished the calls.</summary>
    private void AddCall(ChatToolCall call)
    {
        var index = call.Index ?? 0;
        var pending = _pending.Find(p => p.Index == index);
        if (pending is null)
        {
            pending = new PendingCall(index, call.Id ?? throw new UpstreamResponseException("The upstream's tool call starts without an id."));
            _pending.Add(pending);
        }

        if (call.Name is { Length: > 0 } name && pending.Name is null)
        {
            pending.Name = name;
        }

        pending.Signature ??= call.Signature;
        pending.Arguments.Append(call.Arguments);
    }

    /// <summary>The gathered calls, each as a whole <c>tool_use</c> block (a signed one after its signature's carrier).</summary>
    private void FlushCalls(IBufferWriter<byte> output)
    {
        foreach (var call in _pending)
        {
            _calledTools = true;
            var name = call.Name ?? throw new UpstreamResponseException("The upstream's tool call has no name.");
            if (context.ShowsThinking && call.Signature is { } signature)
            {
                // The signature's carrier: a thinking block of its own right before the call it signs.
                Open(output, Block.Thinking, static w =>
                {
                    w.WriteString("type"u8, "thinking");
                    w.WriteString("thinking"u8, string.Empty);
                    w.WriteString("signature"u8, string.Empty);
                });
                Delta(output, w =>
                {
                    w.WriteString("type"u8, "signature_delta");
                    w.WriteString("signature"u8, AnthropicThinking.Seal(signature));
                });
                CloseBlock(output);
            }

            Open(output, Block.ToolUse, w =>
            {
                w.WriteString("type"u8, "tool_use");
                w.WriteString("id"u8, call.Id);
                w.WriteString("name"u8, name);
                w.WritePropertyName("input"u8);
                w.WriteStartObject();
                w.WriteEndObject();
            });
            var arguments = call.Arguments.ToString();
            if (arguments.Length > 0)
            {
                Delta(output, w =>
                {
                    w.WriteString("type"u8, "input_json_delta");
                    w.WriteString("partial_json"u8, arguments);
                });
            }

            CloseBlock(output);
        }

        _pending.Clear();
    }

    private void Open(IBufferWriter<byte> output, Block kind, Action<Utf8JsonWriter> writeBlock)
    {
        Close(output);
        var index = _nextIndex++;
        _open = kind;
        if (kind == Block.Text)
        {
            _text.Clear();
        }

        AnthropicStreamEvents.Write(output, "content_block_start", w =>
        {
            w.WriteNumber("index"u8, index);
            w.WritePropertyName("content_block"u8);
            w.WriteStartObject();
            writeBlock(w);
            w.WriteEndObject();
        });
    }

    private void Delta(IBufferWriter<byte> output, Action<Utf8JsonWriter> writeDelta)
    {
        var index = _nextIndex - 1;
        AnthropicStreamEvents.Write(output, "content_block_delta", w =>
        {
            w.WriteNumber("index"u8, index);
            w.WritePropertyName("delta"u8);
            w.WriteStartObject();
            writeDelta(w);
            w.WriteEndObject();
        });
    }

    /// <summary>Closes the open block; a thought-text block gets its signature first, as Anthropic's always have one.</summary>
    private void Close(IBufferWriter<byte> output)
    {
        if (_open == Block.Thinking)
        {
            Delta(output, static w =>
            {
                w.WriteString("type"u8, "signature_delta");
                w.WriteString("signature"u8, AnthropicThinking.NoSignature);
            });
        }

        CloseBlock(output);
    }

    private void CloseBlock(IBufferWriter<byte> output)
    {
        if (_open == Block.None)
        {
            return;
        }

        var index = _nextIndex - 1;
        AnthropicStreamEvents.Write(output, "content_block_stop", w => w.WriteNumber("index"u8, index));
        _open = Block.None;
    }

    private void Fail(IBufferWriter<byte> output, string type, string message)
    {
        // The error event ends the stream as Anthropic's does, with no message_stop after it.
        output.Write(AnthropicStreamEvents.Error(message, type).AsSpan(2));
        IsEnded = true;
        Faulted = true;
    }

    private sealed class PendingCall(int index, string id)
    {
        public int Index { get; } = index;

        public string Id { get; } = id;

        public string? Name { get; set; }

        public string? Signature { get; set; }

        public StringBuilder Arguments { get; } = new();
    }
}
