using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>
/// A whole Chat Completions answer as an Anthropic message: the first choice's thought text (a <c>thinking</c>
/// block, when the client asked for thinking), its text with grounding citations (or its refusal), then its tool
/// calls as <c>tool_use</c> blocks, each signed one preceded, when thinking is shown, by a thinking block that seals its
/// signature; the finish reason as <c>stop_reason</c>; the usage in Anthropic's names.
/// </summary>
internal static class ChatToAnthropicResponseTranslator
{
    public static void Translate(ReadOnlySpan<byte> chatBody, AnthropicReplyContext context, IBufferWriter<byte> output)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(chatBody);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new UpstreamResponseException("The upstream's response is not valid JSON: " + e.Message, e);
        }

        using (document)
        {
            if (!JsonText.IsValid(chatBody))
            {
                throw new UpstreamResponseException("The upstream's response holds text that is not valid Unicode.");
            }

            var root = UpstreamFields.RequireObject(document.RootElement, "response");
            var usage = OpenAIChatUsage.Read(root);
            var choices = UpstreamFields.Field(root, "choices");
            if (choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                throw new UpstreamResponseException("The upstream's response has no choices.");
            }

            var choice = UpstreamFields.RequireObject(choices[0], "choices[0]");
            var message = UpstreamFields.RequireObject(UpstreamFields.Field(choice, "message"), "choices[0].message");
            var thoughts = UpstreamFields.String(UpstreamFields.Field(message, "reasoning_content"), "message.reasoning_content");
            var text = UpstreamFields.String(UpstreamFields.Field(message, "content"), "message.content");
            var refusal = UpstreamFields.String(UpstreamFields.Field(message, "refusal"), "message.refusal");
            var citations = new List<ChatUrlCitation>();
            ChatUrlCitations.Read(UpstreamFields.Field(message, "annotations"), citations);
            var calls = new List<ChatToolCall>();
            var toolCalls = UpstreamFields.Field(message, "tool_calls");
            if (toolCalls.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var call in toolCalls.EnumerateArray())
                {
                    calls.Add(ChatToolCallReader.Read(call, $"message.tool_calls[{i++}]"));
                }
            }
            else if (toolCalls.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
            {
                throw UpstreamFields.WrongType("message.tool_calls");
            }

            var finish = UpstreamFields.String(UpstreamFields.Field(choice, "finish_reason"), "finish_reason");

            using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
            writer.WriteStartObject();
            AnthropicReplyWriting.WriteHead(writer, context);
            writer.WritePropertyName("content"u8);
            writer.WriteStartArray();
            if (context.ShowsThinking && thoughts is { Length: > 0 })
            {
                AnthropicReplyWriting.WriteThinkingBlock(writer, thoughts, signature: null);
            }

            var shown = refusal ?? text;
            if (shown is { Length: > 0 })
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "text");
                writer.WriteString("text"u8, shown);
                if (refusal is null && citations.Count > 0)
                {
                    writer.WritePropertyName("citations"u8);
                    writer.WriteStartArray();
                    foreach (var citation in citations)
                    {
                        AnthropicReplyWriting.WriteCitation(writer, citation, shown);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
            }

            foreach (var call in calls)
            {
                if (context.ShowsThinking && call.Signature is { } signature)
                {
                    AnthropicReplyWriting.WriteThinkingBlock(writer, string.Empty, signature);
                }

                writer.WriteStartObject();
                writer.WriteString("type"u8, "tool_use");
                writer.WriteString("id"u8, call.Id ?? throw new UpstreamResponseException("The upstream's tool call has no id."));
                writer.WriteString("name"u8, call.Name ?? throw new UpstreamResponseException("The upstream's tool call has no name."));
                writer.WritePropertyName("input"u8);
                AnthropicReplyWriting.WriteInput(writer, call.Arguments ?? string.Empty);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("stop_reason"u8, AnthropicReplyWriting.StopReason(calls.Count > 0 && finish == "stop" ? "tool_calls" : finish, refusal is not null));
            writer.WriteNull("stop_sequence"u8);
            writer.WritePropertyName("usage"u8);
            AnthropicUsage.Write(writer, usage);
            writer.WriteEndObject();
        }
    }
}
