using System.Buffers;
using System.Text;
using System.Text.Json;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.GeminiToOpenAIChat;

/// <summary>
/// Translates OpenAI <c>chat.completion.chunk</c> events into Gemini stream events, framed as SSE (<c>alt=sse</c>) or
/// as the streamed JSON array Gemini sends without it. Text and thoughts go out as they arrive; tool-call fragments
/// are assembled by index (OpenAI sends the id and name only in the first) into whole <c>functionCall</c> parts;
/// the finish reason is held until the usage chunk that follows it, so the last Gemini event carries both.
/// </summary>
public sealed class ChatToGeminiStreamTranslator(ResponseContext context, bool sse, ExchangeOutcome outcome) : IStreamEventTranslator
{
    private readonly SortedDictionary<int, ChoiceState> _choices = [];
    private string? _responseId;
    private TokenUsage? _usage;
    private int _emitted;
    private int _emittedBeforeThisCall;
    private bool _sawDone;

    public bool IsEnded { get; private set; }

    public bool Faulted { get; private set; }

    /// <summary>
    /// Every choice that came has its <c>finish_reason</c>: without one the gateway would have to make up
    /// <c>STOP</c> for an answer that may be cut anywhere (<c>[DONE]</c> says the upstream stopped, not that it finished).
    /// </summary>
    public bool AnswerComplete => _choices.Count > 0 && _choices.Values.All(static c => c.FinishReason is not null);

    public void TranslateEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        _emittedBeforeThisCall = _emitted;
        if (IsEnded)
        {
            return;
        }

        if (data.SequenceEqual("[DONE]"u8))
        {
            _sawDone = true;
            if (AnswerComplete)
            {
                Complete(output);
            }

            // Else the end of the upstream's stream, which follows, says it was cut (AnswerComplete).
            return;
        }

        try
        {
            TranslateChunk(data, output);
        }
        catch (UpstreamResponseException)
        {
            // The upstream's fault. Fields are checked before an event is written, so every event that went out is whole.
            WriteError(output, 502, "The upstream sent an event of an unexpected shape; the stream was stopped.");
        }
    }

    public void WriteFault(IBufferWriter<byte> output, StreamFault fault)
    {
        if (fault == StreamFault.Upstream)
        {
            // Between events: every call completed and its output went out, so the JSON-array framing stands as it is.
            WriteError(output, 502, "The upstream stopped mid-answer; the stream was ended.");
            return;
        }

        // What the failed call wrote was taken back, so the JSON-array framing goes back to where the call found it.
        _emitted = _emittedBeforeThisCall;
        WriteError(output, 500, "The gateway could not translate an upstream event; the stream was stopped.");
    }

    private void TranslateChunk(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(data);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            WriteError(output, 502, "The upstream sent an event that is not valid JSON; the stream was stopped.");
            return;
        }

        using (document)
        {
            if (!JsonText.IsValid(data))
            {
                throw new UpstreamResponseException("The upstream sent an event whose text is not valid Unicode.");
            }

            var root = UpstreamFields.RequireObject(document.RootElement, "stream event");
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                // The stream is failing already: an odd message reads as absent rather than costing the client the error.
                WriteError(output, 500, UpstreamFields.StringOrNone(UpstreamFields.Field(error, "message")) ?? "Upstream error");
                return;
            }

            _responseId ??= UpstreamFields.StringOrNone(UpstreamFields.Field(root, "id"));
            ChatAnswerInventory.Check(root, outcome);
            if (OpenAIChatUsage.Read(root) is { } usage)
            {
                _usage = usage;
                outcome.Usage = usage;
            }

            if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            foreach (var choice in choices.EnumerateArray())
            {
                UpstreamFields.RequireObject(choice, "choice");
                var index = UpstreamFields.Int32(UpstreamFields.Field(choice, "index"), "choice index") ?? 0;
                if (!_choices.TryGetValue(index, out var state))
                {
                    _choices[index] = state = new ChoiceState();
                }

                TranslateChoice(choice, index, state, output);
            }
        }
    }

    public void Complete(IBufferWriter<byte> output)
    {
        _emittedBeforeThisCall = _emitted;
        if (IsEnded)
        {
            return;
        }

        IsEnded = true;

        // Without [DONE] the upstream stream was cut: close it for the client, but it is not a complete answer.
        Faulted |= !_sawDone;

        // The closing event: every choice's assembled calls and finish reason, with the usage.
        var closing = _choices.Where(c => !c.Value.Closed).ToList();
        if (closing.Count > 0 || _usage is not null)
        {
            WriteEvent(output, w =>
            {
                w.WritePropertyName("candidates"u8);
                w.WriteStartArray();
                foreach (var (index, state) in closing)
                {
                    w.WriteStartObject();
                    ChatToGeminiResponseTranslator.StartModelParts(w);
                    if (state.Calls.Count == 0)
                    {
                        ChatToGeminiResponseTranslator.WriteText(w, string.Empty, thought: false);
                    }

                    foreach (var call in state.Calls.Values)
                    {
                        ChatToGeminiResponseTranslator.WriteFunctionCall(w, call.Id, call.Name ?? string.Empty, call.Arguments.ToString());
                    }

                    ChatToGeminiResponseTranslator.EndModelParts(w);
                    w.WriteString("finishReason"u8, ChatToGeminiResponseTranslator.MapFinishReason(state.Refused ? "content_filter" : state.FinishReason ?? "stop"));
                    w.WriteNumber("index"u8, index);
                    w.WriteEndObject();
                    state.Closed = true;
                }

                w.WriteEndArray();
                if (_usage is { } usage)
                {
                    ChatToGeminiResponseTranslator.WriteUsageMetadata(w, usage);
                }
            });
        }

        if (!sse)
        {
            output.Write(_emitted == 0 ? "[]"u8 : "]"u8);
        }
    }

    private void TranslateChoice(JsonElement choice, int index, ChoiceState state, IBufferWriter<byte> output)
    {
        if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
        {
            var reasoning = UpstreamFields.String(UpstreamFields.Field(delta, "reasoning_content"), "delta.reasoning_content");
            var text = UpstreamFields.String(UpstreamFields.Field(delta, "content"), "delta.content");

            // A refusal is the model's answer, in words: Gemini has no field for it, so it is text, and the choice
            // ends as a safety stop, as a whole response's refusal does (a client that ignored it would read "").
            if (UpstreamFields.String(UpstreamFields.Field(delta, "refusal"), "delta.refusal") is { Length: > 0 } refused)
            {
                text += refused;
                state.Refused = true;
            }

            if (!string.IsNullOrEmpty(reasoning) || !string.IsNullOrEmpty(text))
            {
                WriteEvent(output, w =>
                {
                    w.WritePropertyName("candidates"u8);
                    w.WriteStartArray();
                    w.WriteStartObject();
                    ChatToGeminiResponseTranslator.StartModelParts(w);
                    if (!string.IsNullOrEmpty(reasoning))
                    {
                        ChatToGeminiResponseTranslator.WriteText(w, reasoning, thought: true);
                    }

                    if (!string.IsNullOrEmpty(text))
                    {
                        ChatToGeminiResponseTranslator.WriteText(w, text, thought: false);
                    }

                    ChatToGeminiResponseTranslator.EndModelParts(w);
                    w.WriteNumber("index"u8, index);
                    ChatLogprobsToGemini.Write(w, choice);
                    w.WriteEndObject();
                    w.WriteEndArray();
                });
            }

            if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                var position = 0;
                foreach (var fragment in calls.EnumerateArray())
                {
                    // Fragments are keyed by index: the id and the name come only with the first one.
                    UpstreamFields.RequireObject(fragment, "tool call");
                    var callIndex = UpstreamFields.Int32(UpstreamFields.Field(fragment, "index"), "tool call index") ?? position;
                    position++;
                    if (!state.Calls.TryGetValue(callIndex, out var call))
                    {
                        state.Calls[callIndex] = call = new CallState();
                    }

                    if (UpstreamFields.StringOrNone(UpstreamFields.Field(fragment, "id")) is { Length: > 0 } callId)
                    {
                        call.Id = callId;
                    }

                    if (fragment.TryGetProperty("function", out var fn) && fn.ValueKind == JsonValueKind.Object)
                    {
                        if (UpstreamFields.String(UpstreamFields.Field(fn, "name"), "tool call function.name") is { Length: > 0 } n)
                        {
                            call.Name = n;
                        }

                        if (UpstreamFields.String(UpstreamFields.Field(fn, "arguments"), "tool call function.arguments") is { } a)
                        {
                            call.Arguments.Append(a);
                        }
                    }
                }
            }
        }

        // An odd finish reason reads as none, as in a whole response: the choice then closes as a stop.
        if (UpstreamFields.StringOrNone(UpstreamFields.Field(choice, "finish_reason")) is { Length: > 0 } reason)
        {
            state.FinishReason = reason;
        }
    }

    private void WriteError(IBufferWriter<byte> output, int status, string message)
    {
        WriteEvent(output, w =>
        {
            w.WritePropertyName("error"u8);
            w.WriteStartObject();
            w.WriteNumber("code"u8, status);
            w.WriteString("message"u8, message);
            w.WriteString("status"u8, GoogleErrors.StatusFor(status));
            w.WriteEndObject();
        });
        Faulted = true;
        IsEnded = true;
        if (!sse)
        {
            output.Write("]"u8);
        }
    }

    /// <summary>Writes one Gemini response object (with model and response id) framed for the client.</summary>
    private void WriteEvent(IBufferWriter<byte> output, Action<Utf8JsonWriter> body)
    {
        output.Write(sse ? "data: "u8 : _emitted == 0 ? "["u8 : ",\r\n"u8);
        using (var writer = new Utf8JsonWriter(output, WireJson.WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteString("modelVersion"u8, context.ClientModel);
            if (_responseId is not null)
            {
                writer.WriteString("responseId"u8, _responseId);
            }

            writer.WriteEndObject();
        }

        if (sse)
        {
            output.Write("\r\n\r\n"u8);
        }

        _emitted++;
    }

    private sealed class ChoiceState
    {
        public SortedDictionary<int, CallState> Calls { get; } = [];

        public string? FinishReason { get; set; }

        /// <summary>The choice refused: it finishes as <c>SAFETY</c> whatever finish reason the upstream gave.</summary>
        public bool Refused { get; set; }

        public bool Closed { get; set; }
    }

    private sealed class CallState
    {
        public string? Id { get; set; }

        public string? Name { get; set; }

        public StringBuilder Arguments { get; } = new();
    }
}
