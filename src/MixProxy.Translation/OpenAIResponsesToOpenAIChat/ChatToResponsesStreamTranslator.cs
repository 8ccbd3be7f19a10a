using System.Buffers;
using System.Text;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>
/// Chat Completions chunks as the Responses API's named stream events, chunk by chunk: <c>response.created</c> and
/// <c>response.in_progress</c> first; each output item opened (<c>response.output_item.added</c>), filled by deltas
/// (reasoning summary text, output text and its citations, refusal, function-call arguments) and closed with its
/// <c>.done</c> events when the next item starts or the answer ends; then <c>response.completed</c> (or
/// <c>response.incomplete</c>) with the whole response and its usage, or <c>response.failed</c> when the upstream
/// fails midway. Every event carries a <c>sequence_number</c>, from 0. One instance per response; not thread-safe.
/// </summary>
internal sealed class ChatToResponsesStreamTranslator(ResponsesReplyContext context, ExchangeOutcome outcome) : IStreamEventTranslator, IChatChunkTranslator
{
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "\ndata: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    private readonly ResponsesReply _reply = new();
    private readonly Dictionary<int, FunctionCallItem> _openCalls = [];

    // What one choice of a chunk carries, read before anything of it is written; reused from chunk to chunk.
    private readonly List<ChatToolCall> _calls = [];
    private readonly List<ChatUrlCitation> _citations = [];
    private readonly List<string> _logprobs = [];
    private readonly List<(string? MimeType, string Data)> _images = [];
    private ReasoningItem? _reasoning;
    private MessageItem? _message;
    private string? _finishReason;
    private long _sequence;
    private bool _started;

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
        Fail(output, "bad_upstream_response", message);

    public void Complete(IBufferWriter<byte> output)
    {
        if (IsEnded)
        {
            return;
        }

        if (_finishReason is null)
        {
            // Without a finish reason the answer may be cut anywhere: it is not passed off as complete.
            Fail(output, "server_error", "The upstream's stream ended before the answer was finished.");
            return;
        }

        Start(output);
        CloseAll(output);
        ChatChunks.Finish(_reply, _finishReason);
        if (context.StoredInput is not null)
        {
            outcome.ResultToStore = ResponsesWriting.Record(context, _reply);
        }

        WriteResponseEvent(output, _reply.Status == "incomplete" ? "response.incomplete" : "response.completed");
        IsEnded = true;
    }

    public void WriteFault(IBufferWriter<byte> output, StreamFault fault) =>
        Fail(output, "server_error", fault == StreamFault.Upstream
            ? "The upstream stopped mid-answer; the stream was ended."
            : "The gateway could not translate an upstream event; the stream was stopped.");

    private void Translate(JsonElement chunk, IBufferWriter<byte> output)
    {
        UpstreamFields.RequireObject(chunk, "stream event");
        if (UpstreamFields.Field(chunk, "error") is { ValueKind: JsonValueKind.Object } error)
        {
            // The upstream's own error event (or the inner translator's): the response failed here.
            var code = UpstreamFields.StringOrNone(UpstreamFields.Field(error, "code")) ?? UpstreamFields.StringOrNone(UpstreamFields.Field(error, "type")) ?? "server_error";
            Fail(output, code, UpstreamFields.StringOrNone(UpstreamFields.Field(error, "message")) ?? "The upstream failed midway.");
            return;
        }

        if (OpenAIChatUsage.Read(chunk) is { } usage)
        {
            _reply.Usage = usage;
            _reply.UsageExtraContent = ChatChunks.UsageExtraContent(chunk) ?? _reply.UsageExtraContent;
        }

        var choices = UpstreamFields.Field(chunk, "choices");
        if (choices.ValueKind != JsonValueKind.Array)
        {
            Start(output);
            return;
        }

        foreach (var choice in choices.EnumerateArray())
        {
            UpstreamFields.RequireObject(choice, "choice");

            // A Responses request asks for one answer; a Chat upstream answering with more is not shown past the first.
            if ((UpstreamFields.Int32(UpstreamFields.Field(choice, "index"), "choice index") ?? 0) != 0)
            {
                continue;
            }

            var delta = UpstreamFields.Field(choice, "delta");
            var reasoning = delta.ValueKind == JsonValueKind.Object ? UpstreamFields.String(UpstreamFields.Field(delta, "reasoning_content"), "delta.reasoning_content") : null;
            var text = delta.ValueKind == JsonValueKind.Object ? UpstreamFields.String(UpstreamFields.Field(delta, "content"), "delta.content") : null;
            var refusal = delta.ValueKind == JsonValueKind.Object ? UpstreamFields.String(UpstreamFields.Field(delta, "refusal"), "delta.refusal") : null;
            var calls = _calls;
            calls.Clear();
            if (delta.ValueKind == JsonValueKind.Object && UpstreamFields.Field(delta, "tool_calls") is { ValueKind: JsonValueKind.Array } toolCalls)
            {
                var i = 0;
                foreach (var call in toolCalls.EnumerateArray())
                {
                    calls.Add(ChatToolCallReader.Read(call, $"delta.tool_calls[{i++}]"));
                }
            }

            var citations = _citations;
            citations.Clear();
            if (delta.ValueKind == JsonValueKind.Object)
            {
                ChatUrlCitations.Read(UpstreamFields.Field(delta, "annotations"), citations);
            }

            var images = _images;
            images.Clear();
            if (delta.ValueKind == JsonValueKind.Object)
            {
                ChatChunks.ReadImages(UpstreamFields.Field(delta, "images"), images, _reply.Vendor);

                // Google's vendor data and audio ride on the response's extra_content, whole in response.completed.
                ChatChunks.ReadVendorContent(delta, _reply.Vendor);
            }

            var finish = UpstreamFields.String(UpstreamFields.Field(choice, "finish_reason"), "finish_reason");
            var logprobs = _logprobs;
            logprobs.Clear();
            ChatChunks.ReadLogprobs(choice, logprobs);

            Start(output);
            if (reasoning is { Length: > 0 })
            {
                AppendReasoning(reasoning, output);
            }

            if (text is { Length: > 0 })
            {
                AppendText(text, logprobs, output);
            }

            if (refusal is { Length: > 0 })
            {
                AppendRefusal(refusal, output);
            }

            foreach (var (mimeType, data) in images)
            {
                AddImage(mimeType, data, output);
            }

            foreach (var call in calls)
            {
                AppendCall(call, output);
            }

            foreach (var citation in citations)
            {
                AddCitation(citation, output);
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
        WriteResponseEvent(output, "response.created");
        WriteResponseEvent(output, "response.in_progress");
    }

    private void AppendReasoning(string delta, IBufferWriter<byte> output)
    {
        if (_reasoning is null)
        {
            CloseAll(output);
            _reasoning = _reply.Add(new ReasoningItem(ItemIds.Reasoning(), visible: true) { Summary = new StringBuilder() });
            ItemAdded(output, _reasoning);
            WriteEvent(output, "response.reasoning_summary_part.added", w =>
            {
                ItemFields(w, _reasoning);
                w.WriteNumber("summary_index"u8, 0);
                w.WritePropertyName("part"u8);
                ResponsesWriting.WriteSummaryPart(w, string.Empty);
            });
        }

        _reasoning.Summary!.Append(delta);
        WriteEvent(output, "response.reasoning_summary_text.delta", w =>
        {
            ItemFields(w, _reasoning);
            w.WriteNumber("summary_index"u8, 0);
            w.WriteString("delta"u8, delta);
        });
    }

    private MessageItem OpenMessage(IBufferWriter<byte> output)
    {
        if (_message is null)
        {
            CloseAll(output);
            _message = _reply.Add(new MessageItem(ItemIds.Message()));
            ItemAdded(output, _message);
        }

        return _message;
    }

    private void AppendText(string delta, List<string> logprobs, IBufferWriter<byte> output)
    {
        var message = OpenMessage(output);
        if (message.Refusal is not null)
        {
            // Text after a refusal: a new message, so that each part keeps its content_index.
            CloseAll(output);
            message = OpenMessage(output);
        }

        if (!message.HasTextPart)
        {
            message.HasTextPart = true;
            WriteEvent(output, "response.content_part.added", w =>
            {
                ItemFields(w, message);
                w.WriteNumber("content_index"u8, 0);
                w.WritePropertyName("part"u8);
                ResponsesWriting.WriteTextPart(w, string.Empty, [], []);
            });
        }

        message.Text.Append(delta);
        message.Logprobs.AddRange(logprobs);
        WriteEvent(output, "response.output_text.delta", w =>
        {
            ItemFields(w, message);
            w.WriteNumber("content_index"u8, 0);
            w.WriteString("delta"u8, delta);
            ResponsesWriting.WriteLogprobs(w, logprobs);
        });
    }

    private void AppendRefusal(string delta, IBufferWriter<byte> output)
    {
        var message = OpenMessage(output);
        if (message.Refusal is null)
        {
            message.Refusal = new StringBuilder();
            WriteEvent(output, "response.content_part.added", w =>
            {
                ItemFields(w, message);
                w.WriteNumber("content_index"u8, message.RefusalIndex);
                w.WritePropertyName("part"u8);
                ResponsesWriting.WriteRefusalPart(w, string.Empty);
            });
        }

        message.Refusal.Append(delta);
        WriteEvent(output, "response.refusal.delta", w =>
        {
            ItemFields(w, message);
            w.WriteNumber("content_index"u8, message.RefusalIndex);
            w.WriteString("delta"u8, delta);
        });
    }

    private void AppendCall(ChatToolCall call, IBufferWriter<byte> output)
    {
        var index = call.Index ?? 0;
        if (!_openCalls.TryGetValue(index, out var item))
        {
            // A new call: whatever was open before it is finished (a model turn is reasoning, text, then calls).
            CloseReasoningAndMessage(output);
            if (call.Signature is { } signature)
            {
                var carrier = _reply.Add(new ReasoningItem(ItemIds.Reasoning(), context.IncludeEncryptedReasoning) { Signature = signature });
                if (carrier.Visible)
                {
                    ItemAdded(output, carrier);
                    ItemDone(output, carrier);
                }
                else
                {
                    carrier.Done = true;
                }
            }

            item = _reply.Add(new FunctionCallItem(ItemIds.FunctionCall(), call.Id ?? throw new UpstreamResponseException("The upstream's tool call has no id."), call.Name ?? string.Empty));
            _openCalls.Add(index, item);
            ItemAdded(output, item);
        }
        else if (call.Name is { Length: > 0 } name && item.Name.Length == 0)
        {
            item.Name = name;
        }

        if (call.Arguments is { Length: > 0 } arguments)
        {
            item.Arguments.Append(arguments);
            WriteEvent(output, "response.function_call_arguments.delta", w =>
            {
                ItemFields(w, item);
                w.WriteString("delta"u8, arguments);
            });
        }
    }

    /// <summary>An image the model drew, whole (Gemini sends each at once): its item opened and finished.</summary>
    private void AddImage(string? mimeType, string data, IBufferWriter<byte> output)
    {
        CloseAll(output);
        var item = _reply.Add(new ImageGenerationCallItem(ItemIds.ImageGenerationCall(), mimeType, data));
        ItemAdded(output, item);
        WriteEvent(output, "response.image_generation_call.in_progress", w => ItemFields(w, item));
        WriteEvent(output, "response.image_generation_call.completed", w => ItemFields(w, item));
        ItemDone(output, item);
    }

    private void AddCitation(ChatUrlCitation citation, IBufferWriter<byte> output)
    {
        // Citations come with the finish, and refer to the text of the message they follow.
        var message = _message ?? _reply.Items.OfType<MessageItem>().LastOrDefault();
        if (message is null)
        {
            return;
        }

        message.Annotations.Add(citation);
        WriteEvent(output, "response.output_text.annotation.added", w =>
        {
            ItemFields(w, message);
            w.WriteNumber("content_index"u8, 0);
            w.WriteNumber("annotation_index"u8, message.Annotations.Count - 1);
            w.WritePropertyName("annotation"u8);
            ResponsesWriting.WriteAnnotation(w, citation);
        });
    }

    private void CloseAll(IBufferWriter<byte> output)
    {
        CloseReasoningAndMessage(output);
        foreach (var call in _openCalls.Values.OrderBy(call => call.OutputIndex))
        {
            WriteEvent(output, "response.function_call_arguments.done", w =>
            {
                ItemFields(w, call);
                w.WriteString("name"u8, call.Name);
                w.WriteString("arguments"u8, call.Arguments.ToString());
            });
            ItemDone(output, call);
        }

        _openCalls.Clear();
    }

    private void CloseReasoningAndMessage(IBufferWriter<byte> output)
    {
        if (_reasoning is { } reasoning)
        {
            var text = reasoning.Summary!.ToString();
            WriteEvent(output, "response.reasoning_summary_text.done", w =>
            {
                ItemFields(w, reasoning);
                w.WriteNumber("summary_index"u8, 0);
                w.WriteString("text"u8, text);
            });
            WriteEvent(output, "response.reasoning_summary_part.done", w =>
            {
                ItemFields(w, reasoning);
                w.WriteNumber("summary_index"u8, 0);
                w.WritePropertyName("part"u8);
                ResponsesWriting.WriteSummaryPart(w, text);
            });
            ItemDone(output, reasoning);
            _reasoning = null;
        }

        if (_message is { } message)
        {
            if (message.HasTextPart)
            {
                var text = message.Text.ToString();
                WriteEvent(output, "response.output_text.done", w =>
                {
                    ItemFields(w, message);
                    w.WriteNumber("content_index"u8, 0);
                    w.WriteString("text"u8, text);
                    ResponsesWriting.WriteLogprobs(w, message.Logprobs);
                });
                WriteEvent(output, "response.content_part.done", w =>
                {
                    ItemFields(w, message);
                    w.WriteNumber("content_index"u8, 0);
                    w.WritePropertyName("part"u8);
                    ResponsesWriting.WriteTextPart(w, text, message.Annotations, message.Logprobs);
                });
            }

            if (message.Refusal is { } refusal)
            {
                var text = refusal.ToString();
                WriteEvent(output, "response.refusal.done", w =>
                {
                    ItemFields(w, message);
                    w.WriteNumber("content_index"u8, message.RefusalIndex);
                    w.WriteString("refusal"u8, text);
                });
                WriteEvent(output, "response.content_part.done", w =>
                {
                    ItemFields(w, message);
                    w.WriteNumber("content_index"u8, message.RefusalIndex);
                    w.WritePropertyName("part"u8);
                    ResponsesWriting.WriteRefusalPart(w, text);
                });
            }

            ItemDone(output, message);
            _message = null;
        }
    }

    private void ItemAdded(IBufferWriter<byte> output, OutputItem item) =>
        WriteEvent(output, "response.output_item.added", w =>
        {
            w.WriteNumber("output_index"u8, item.OutputIndex);
            w.WritePropertyName("item"u8);
            ResponsesWriting.WriteItem(w, item, context.IncludeEncryptedReasoning);
        });

    private void ItemDone(IBufferWriter<byte> output, OutputItem item)
    {
        item.Done = true;
        WriteEvent(output, "response.output_item.done", w =>
        {
            w.WriteNumber("output_index"u8, item.OutputIndex);
            w.WritePropertyName("item"u8);
            ResponsesWriting.WriteItem(w, item, context.IncludeEncryptedReasoning);
        });
    }

    private static void ItemFields(Utf8JsonWriter writer, OutputItem item)
    {
        writer.WriteString("item_id"u8, item.Id);
        writer.WriteNumber("output_index"u8, item.OutputIndex);
    }

    private void Fail(IBufferWriter<byte> output, string code, string message)
    {
        Start(output);
        _reply.Status = "failed";
        _reply.Error = (code, message);
        WriteResponseEvent(output, "response.failed");
        IsEnded = true;
        Faulted = true;
    }

    private void WriteResponseEvent(IBufferWriter<byte> output, string type) =>
        WriteEvent(output, type, w =>
        {
            w.WritePropertyName("response"u8);
            ResponsesWriting.WriteResponse(w, context, _reply);
        });

    private void WriteEvent(IBufferWriter<byte> output, string type, Action<Utf8JsonWriter> write)
    {
        output.Write(EventPrefix);
        Encoding.UTF8.GetBytes(type, output);
        output.Write(DataPrefix);
        using (var writer = new Utf8JsonWriter(output, WireJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, type);
            writer.WriteNumber("sequence_number"u8, _sequence++);
            write(writer);
            writer.WriteEndObject();
        }

        output.Write(EventEnd);
    }
}
