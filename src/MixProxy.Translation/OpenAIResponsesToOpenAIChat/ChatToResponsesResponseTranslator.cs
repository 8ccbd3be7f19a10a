using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>
/// A whole Chat Completions answer as a Responses API response: the first choice's reasoning, text (with its
/// citations) and refusal, then its tool calls as <c>function_call</c> items, each signed one preceded by a reasoning
/// item that carries its thought signature; the finish reason as the status; the usage in the Responses' names.
/// </summary>
internal static class ChatToResponsesResponseTranslator
{
    public static ResponsesReply Translate(ReadOnlySpan<byte> chatBody, ResponsesReplyContext context, IBufferWriter<byte> output)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(chatBody);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new UpstreamResponseException("The upstream's response is not valid JSON: " + e.Message);
        }

        using (document)
        {
            if (!JsonText.IsValid(chatBody))
            {
                throw new UpstreamResponseException("The upstream's response holds text that is not valid Unicode.");
            }

            var root = UpstreamFields.RequireObject(document.RootElement, "response");
            var reply = new ResponsesReply { Usage = OpenAIChatUsage.Read(root), UsageExtraContent = ChatChunks.UsageExtraContent(root) };
            var choices = UpstreamFields.Field(root, "choices");
            if (choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                throw new UpstreamResponseException("The upstream's response has no choices.");
            }

            var choice = UpstreamFields.RequireObject(choices[0], "choices[0]");
            var message = UpstreamFields.RequireObject(UpstreamFields.Field(choice, "message"), "choices[0].message");

            if (UpstreamFields.String(UpstreamFields.Field(message, "reasoning_content"), "message.reasoning_content") is { Length: > 0 } thoughts)
            {
                reply.Add(new ReasoningItem(ItemIds.Reasoning(), visible: true) { Summary = new(thoughts), Done = true });
            }

            var text = UpstreamFields.String(UpstreamFields.Field(message, "content"), "message.content");
            var refusal = UpstreamFields.String(UpstreamFields.Field(message, "refusal"), "message.refusal");
            if (text is { Length: > 0 } || refusal is not null)
            {
                var item = reply.Add(new MessageItem(ItemIds.Message()) { Done = true, HasTextPart = text is { Length: > 0 } || refusal is null });
                item.Text.Append(text);
                if (refusal is not null)
                {
                    item.Refusal = new(refusal);
                }

                ChatUrlCitations.Read(UpstreamFields.Field(message, "annotations"), item.Annotations);
                ChatChunks.ReadLogprobs(choice, item.Logprobs);
            }

            // Images the model drew, after its text (Chat keeps them apart from it, so their place in it is unknown).
            var images = new List<(string? MimeType, string Data)>();
            ChatChunks.ReadImages(UpstreamFields.Field(message, "images"), images, reply.Vendor);
            foreach (var (mimeType, data) in images)
            {
                reply.Add(new ImageGenerationCallItem(ItemIds.ImageGenerationCall(), mimeType, data) { Done = true });
            }

            ChatChunks.ReadVendorContent(message, reply.Vendor);

            var calls = UpstreamFields.Field(message, "tool_calls");
            if (calls.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var call in calls.EnumerateArray())
                {
                    var read = ChatToolCallReader.Read(call, $"message.tool_calls[{i++}]");
                    if (read.Signature is { } signature)
                    {
                        reply.Add(new ReasoningItem(ItemIds.Reasoning(), context.IncludeEncryptedReasoning) { Signature = signature, Done = true });
                    }

                    var item = reply.Add(new FunctionCallItem(ItemIds.FunctionCall(), read.Id ?? throw new UpstreamResponseException("The upstream's tool call has no id."), read.Name ?? string.Empty) { Done = true });
                    item.Arguments.Append(read.Arguments);
                }
            }
            else if (calls.ValueKind != JsonValueKind.Undefined && calls.ValueKind != JsonValueKind.Null)
            {
                throw UpstreamFields.WrongType("message.tool_calls");
            }

            ChatChunks.Finish(reply, UpstreamFields.String(UpstreamFields.Field(choice, "finish_reason"), "finish_reason"));
            using (var writer = new Utf8JsonWriter(output, WireJson.WriterOptions))
            {
                ResponsesWriting.WriteResponse(writer, context, reply);
            }

            return reply;
        }
    }
}

/// <summary>What both translators read from Chat Completions messages and chunks.</summary>
internal static class ChatChunks
{
    /// <summary>
    /// Chat's <c>images</c> (<c>[{type: "image_url", image_url: {url}}]</c>, the field OpenRouter and LiteLLM give
    /// image output): each data URI as its media type and base64 data; a link, which an image item cannot hold, goes
    /// to <paramref name="vendor"/> as it came.
    /// </summary>
    public static void ReadImages(JsonElement images, List<(string? MimeType, string Data)> into, VendorContent vendor)
    {
        if (images.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var image in images.EnumerateArray())
        {
            if (image.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var url = UpstreamFields.Field(image, "image_url") is { ValueKind: JsonValueKind.Object } imageUrl
                ? UpstreamFields.StringOrNone(UpstreamFields.Field(imageUrl, "url"))
                : null;
            const string Base64Marker = ";base64,";
            var marker = url?.IndexOf(Base64Marker, StringComparison.Ordinal) ?? -1;
            if (url is not null && url.StartsWith("data:", StringComparison.OrdinalIgnoreCase) && marker > 0)
            {
                var mimeType = url[5..marker];
                into.Add((mimeType.Length > 0 ? mimeType : null, url[(marker + Base64Marker.Length)..]));
            }
            else
            {
                vendor.AddImageLink(image);
            }
        }
    }

    /// <summary>What a Chat message or delta carries beside its text that Responses keeps in the response's <c>extra_content</c>.</summary>
    public static void ReadVendorContent(JsonElement messageOrDelta, VendorContent vendor)
    {
        if (messageOrDelta.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        vendor.Merge(UpstreamFields.Field(messageOrDelta, "extra_content"));
        vendor.AddAudio(UpstreamFields.Field(messageOrDelta, "audio"));
    }

    /// <summary>Chat's <c>usage.extra_content</c> (Gemini's counts per modality) as JSON, or null.</summary>
    public static string? UsageExtraContent(JsonElement chunkOrResponse) =>
        UpstreamFields.Field(chunkOrResponse, "usage") is { ValueKind: JsonValueKind.Object } usage
        && UpstreamFields.Field(usage, "extra_content") is { ValueKind: JsonValueKind.Object } extra
            ? extra.GetRawText()
            : null;

    /// <summary>A choice's token logprobs (<c>logprobs.content</c>), each entry's JSON as it came.</summary>
    public static void ReadLogprobs(JsonElement choice, List<string> into)
    {
        if (UpstreamFields.Field(choice, "logprobs") is { ValueKind: JsonValueKind.Object } logprobs
            && UpstreamFields.Field(logprobs, "content") is { ValueKind: JsonValueKind.Array } content)
        {
            foreach (var entry in content.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    throw UpstreamFields.WrongType("logprobs.content[]");
                }

                into.Add(entry.GetRawText());
            }
        }
    }

    /// <summary>The status a finish reason gives: cut by the output cap or the content filter is <c>incomplete</c>.</summary>
    public static void Finish(ResponsesReply reply, string? finishReason)
    {
        (reply.Status, reply.IncompleteReason) = finishReason switch
        {
            "length" => ("incomplete", "max_output_tokens"),
            "content_filter" => ("incomplete", "content_filter"),
            _ => ("completed", (string?)null),
        };
    }
}
