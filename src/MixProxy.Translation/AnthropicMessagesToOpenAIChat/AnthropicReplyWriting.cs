using System.Text.Json;
using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>What the whole-response and stream translators both write of an Anthropic message.</summary>
internal static class AnthropicReplyWriting
{
    /// <summary>
    /// A Chat finish reason as Anthropic's <c>stop_reason</c>. Chat does not say whether a stop sequence ended the
    /// text (nor does Gemini), so such an answer reads <c>end_turn</c>.
    /// </summary>
    public static string StopReason(string? finishReason, bool refused) => refused ? "refusal" : finishReason switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    /// <summary>The message object's head: id, type, role, model (the content and the rest follow).</summary>
    public static void WriteHead(Utf8JsonWriter writer, AnthropicReplyContext context)
    {
        writer.WriteString("id"u8, context.MessageId);
        writer.WriteString("type"u8, "message");
        writer.WriteString("role"u8, "assistant");
        writer.WriteString("model"u8, context.ClientModel);
    }

    public static void WriteThinkingBlock(Utf8JsonWriter writer, string thinking, string? signature)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "thinking");
        writer.WriteString("thinking"u8, thinking);
        writer.WriteString("signature"u8, signature is null ? AnthropicThinking.NoSignature : AnthropicThinking.Seal(signature));
        writer.WriteEndObject();
    }

    /// <summary>A grounding citation (Chat's <c>url_citation</c>) as Anthropic's web search result location, quoting the text it supports.</summary>
    public static void WriteCitation(Utf8JsonWriter writer, ChatUrlCitation citation, string text)
    {
        var start = Math.Clamp(citation.Start, 0, text.Length);
        var end = Math.Clamp(citation.End, start, text.Length);
        writer.WriteStartObject();
        writer.WriteString("type"u8, "web_search_result_location");
        writer.WriteString("url"u8, citation.Url);
        writer.WriteString("title"u8, citation.Title);

        // Anthropic's handle to search results it keeps; the gateway keeps none, so there is nothing to point at.
        writer.WriteString("encrypted_index"u8, string.Empty);
        writer.WriteString("cited_text"u8, text[start..end]);
        writer.WriteEndObject();
    }

    /// <summary>A tool call's arguments as the <c>input</c> object; an upstream's arguments that are no JSON object are unusable (502).</summary>
    public static void WriteInput(Utf8JsonWriter writer, string arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(arguments);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new UpstreamResponseException("The upstream's tool call arguments are not a JSON object.");
            }

            document.RootElement.WriteTo(writer);
        }
        catch (JsonException e)
        {
            throw new UpstreamResponseException("The upstream's tool call arguments are not valid JSON: " + e.Message, e);
        }
    }
}

