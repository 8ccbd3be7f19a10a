using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>Writes Responses API objects: the response, its output items and usage, and the record of a stored one.</summary>
internal static class ResponsesWriting
{
    /// <summary>The response object as the client sees it: its visible items, with signatures where the client asked for them.</summary>
    public static void WriteResponse(Utf8JsonWriter writer, ResponsesReplyContext context, ResponsesReply reply)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, context.ResponseId);
        writer.WriteString("object"u8, "response");
        writer.WriteNumber("created_at"u8, context.CreatedAt);
        writer.WriteString("status"u8, reply.Status);
        writer.WriteBoolean("background"u8, false);
        writer.WritePropertyName("error"u8);
        if (reply.Error is { } error)
        {
            writer.WriteStartObject();
            writer.WriteString("code"u8, error.Code);
            writer.WriteString("message"u8, error.Message);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WritePropertyName("incomplete_details"u8);
        if (reply.IncompleteReason is { } reason)
        {
            writer.WriteStartObject();
            writer.WriteString("reason"u8, reason);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WriteString("model"u8, context.ClientModel);
        writer.WritePropertyName("output"u8);
        writer.WriteStartArray();
        foreach (var item in reply.Items)
        {
            if (item.Visible)
            {
                WriteItem(writer, item, context.IncludeEncryptedReasoning);
            }
        }

        writer.WriteEndArray();
        ResponsesEcho.WriteMembers(writer, context.Echo.Span);

        writer.WritePropertyName("usage"u8);
        if (reply.Usage is { } usage)
        {
            WriteUsage(writer, usage, reply.UsageExtraContent);
        }
        else
        {
            writer.WriteNullValue();
        }

        if (reply.Status != "in_progress")
        {
            // Whole once the answer is: a stream gathers it from every chunk, and the snapshots before are partial.
            reply.Vendor.Write(writer);
        }

        if (context.OutputText && reply.Status != "in_progress")
        {
            writer.WriteString("output_text"u8, reply.Text());
        }

        writer.WriteEndObject();
    }

    /// <summary>Responses' <c>usage</c>; <paramref name="extraContent"/> is the Chat usage's own vendor field, carried as it came.</summary>
    public static void WriteUsage(Utf8JsonWriter writer, TokenUsage usage, string? extraContent = null)
    {
        writer.WriteStartObject();
        writer.WriteNumber("input_tokens"u8, usage.Input);
        writer.WritePropertyName("input_tokens_details"u8);
        writer.WriteStartObject();
        writer.WriteNumber("cached_tokens"u8, usage.Cached);
        writer.WriteEndObject();
        writer.WriteNumber("output_tokens"u8, usage.Output);
        writer.WritePropertyName("output_tokens_details"u8);
        writer.WriteStartObject();
        writer.WriteNumber("reasoning_tokens"u8, usage.Reasoning);
        writer.WriteEndObject();
        writer.WriteNumber("total_tokens"u8, usage.Total);
        if (extraContent is not null)
        {
            writer.WritePropertyName("extra_content"u8);
            writer.WriteRawValue(extraContent, skipInputValidation: true);
        }

        writer.WriteEndObject();
    }

    /// <summary>One output item as it stands. <paramref name="withSignatures"/>: reasoning items show their sealed signature.</summary>
    public static void WriteItem(Utf8JsonWriter writer, OutputItem item, bool withSignatures)
    {
        var status = item.Done ? "completed" : "in_progress";
        writer.WriteStartObject();
        writer.WriteString("id"u8, item.Id);
        switch (item)
        {
            case ReasoningItem reasoning:
                writer.WriteString("type"u8, "reasoning");
                writer.WritePropertyName("summary"u8);
                writer.WriteStartArray();
                if (reasoning.Summary is { } summary && (item.Done || summary.Length > 0))
                {
                    WriteSummaryPart(writer, summary.ToString());
                }

                writer.WriteEndArray();
                if (withSignatures && reasoning.Signature is { } signature)
                {
                    writer.WriteString("encrypted_content"u8, ResponsesReasoning.Seal(signature));
                }

                break;
            case MessageItem message:
                writer.WriteString("type"u8, "message");
                writer.WriteString("status"u8, status);
                writer.WriteString("role"u8, "assistant");
                writer.WritePropertyName("content"u8);
                writer.WriteStartArray();
                if (message.HasTextPart)
                {
                    WriteTextPart(writer, message.Text.ToString(), message.Annotations, message.Logprobs);
                }

                if (message.Refusal is { } refusal)
                {
                    WriteRefusalPart(writer, refusal.ToString());
                }

                writer.WriteEndArray();
                break;
            case ImageGenerationCallItem image:
                writer.WriteString("type"u8, "image_generation_call");
                writer.WriteString("status"u8, status);
                if (OutputFormat(image.MimeType) is { } format)
                {
                    writer.WriteString("output_format"u8, format);
                }

                if (item.Done)
                {
                    writer.WriteString("result"u8, image.Data);
                }
                else
                {
                    writer.WriteNull("result"u8);
                }

                break;
            case FunctionCallItem call:
                writer.WriteString("type"u8, "function_call");
                writer.WriteString("status"u8, status);
                writer.WriteString("arguments"u8, call.Arguments.ToString());
                writer.WriteString("call_id"u8, call.CallId);
                writer.WriteString("name"u8, call.Name);
                break;
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// An image item's <c>output_format</c> (<c>png</c>, <c>jpeg</c>, <c>webp</c>…), the field OpenAI's own image items
    /// carry beside <c>result</c>: without it a client cannot tell how to read the bytes. From the image's media type.
    /// </summary>
    private static string? OutputFormat(string? mimeType) =>
        mimeType is null ? "png" // Chat's images without a media type are PNG data URIs (GeminiToChatWriting.WriteImage).
        : mimeType.StartsWith("image/", StringComparison.OrdinalIgnoreCase) && mimeType.Length > "image/".Length
            ? mimeType["image/".Length..].Split(';')[0].Trim().ToLowerInvariant()
            : null;

    public static void WriteTextPart(Utf8JsonWriter writer, string text, IReadOnlyList<ChatUrlCitation> annotations, IReadOnlyList<string> logprobs)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "output_text");
        writer.WritePropertyName("annotations"u8);
        writer.WriteStartArray();
        foreach (var annotation in annotations)
        {
            WriteAnnotation(writer, annotation);
        }

        writer.WriteEndArray();
        WriteLogprobs(writer, logprobs);
        writer.WriteString("text"u8, text);
        writer.WriteEndObject();
    }

    /// <summary><c>logprobs</c>: the entries as they came (Chat's <c>{token, logprob, bytes, top_logprobs}</c> is the Responses' shape).</summary>
    public static void WriteLogprobs(Utf8JsonWriter writer, IReadOnlyList<string> logprobs)
    {
        writer.WritePropertyName("logprobs"u8);
        writer.WriteStartArray();
        foreach (var entry in logprobs)
        {
            writer.WriteRawValue(entry, skipInputValidation: true);
        }

        writer.WriteEndArray();
    }

    public static void WriteRefusalPart(Utf8JsonWriter writer, string refusal)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "refusal");
        writer.WriteString("refusal"u8, refusal);
        writer.WriteEndObject();
    }

    public static void WriteSummaryPart(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "summary_text");
        writer.WriteString("text"u8, text);
        writer.WriteEndObject();
    }

    public static void WriteAnnotation(Utf8JsonWriter writer, ChatUrlCitation annotation)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "url_citation");
        writer.WriteNumber("start_index"u8, annotation.Start);
        writer.WriteNumber("end_index"u8, annotation.End);
        writer.WriteString("url"u8, annotation.Url);
        writer.WriteString("title"u8, annotation.Title);
        writer.WriteEndObject();
    }

    /// <summary>
    /// The record of a stored response (<see cref="ResponsesRecord"/>): the response as the client got it, its input,
    /// and the conversation so far, this response's output included with every signature.
    /// </summary>
    public static StoredResult Record(ResponsesReplyContext context, ResponsesReply reply)
    {
        // Written in a pooled buffer and kept as an exact copy: a growing one would leave every size it passed
        // through behind as garbage, and the host keeps the record as long as the response is stored.
        using var buffer = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WritePropertyName(ResponsesRecord.Response);
            WriteResponse(writer, context, reply);
            writer.WritePropertyName(ResponsesRecord.Input);
            writer.WriteRawValue(context.StoredInput!.Value.Span, skipInputValidation: true);
            writer.WritePropertyName(ResponsesRecord.Context);
            writer.WriteStartArray();
            if (context.PriorContext is { } prior)
            {
                WriteElements(writer, prior.Span);
            }

            WriteElements(writer, context.StoredInput.Value.Span);
            foreach (var item in reply.Items)
            {
                WriteItem(writer, item, withSignatures: true);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return new StoredResult(context.ResponseId, buffer.WrittenSpan.ToArray());
    }

    private static void WriteElements(Utf8JsonWriter writer, ReadOnlySpan<byte> array)
    {
        var reader = new Utf8JsonReader(array);
        using var document = JsonDocument.ParseValue(ref reader);
        foreach (var element in document.RootElement.EnumerateArray())
        {
            element.WriteTo(writer);
        }
    }
}
