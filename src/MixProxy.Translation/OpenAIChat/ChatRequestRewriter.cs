using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>
/// Same-protocol Chat Completions: the body goes upstream as sent, but for the model name when an alias maps it,
/// <c>stream_options.include_usage</c> when the gateway needs the stream's usage for token limits, and the Gemini
/// thought signatures of tool calls when the request may not replay them (a fallback from the endpoint that issued them).
/// </summary>
internal static class ChatRequestRewriter
{
    // Where Google's OpenAI-compatible endpoint puts a Gemini thought signature, and takes it back.
    private static readonly JsonPathPattern SignaturePath = JsonPathPattern.Parse("messages[].tool_calls[].extra_content.google.thought_signature");

    public static void Rewrite(JsonElement request, string upstreamModel, bool requestUsage, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        writer.WriteStartObject();
        var wroteOptions = false;
        foreach (var property in request.EnumerateObject())
        {
            if (property.NameEquals("model"u8))
            {
                writer.WriteString("model"u8, upstreamModel);
            }
            else if (requestUsage && property.NameEquals("stream_options"u8))
            {
                WriteStreamOptions(writer, property.Value);
                wroteOptions = true;
            }
            else
            {
                property.WriteTo(writer);
            }
        }

        if (requestUsage && !wroteOptions)
        {
            WriteStreamOptions(writer, default);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// <paramref name="body"/> with every tool call's thought signature replaced by Google's bypass value, every
    /// other byte as it was; null when it carries none.
    /// </summary>
    public static ReadOnlyMemory<byte>? ReplaceThoughtSignatures(ReadOnlySpan<byte> body) =>
        JsonStringSplice.ReplaceStrings(body, SignaturePath, ThoughtSignatures.BypassJson);

    private static void WriteStreamOptions(Utf8JsonWriter writer, JsonElement existing)
    {
        writer.WritePropertyName("stream_options"u8);
        writer.WriteStartObject();
        if (existing.ValueKind == JsonValueKind.Object)
        {
            foreach (var option in existing.EnumerateObject().Where(o => !o.NameEquals("include_usage"u8)))
            {
                option.WriteTo(writer);
            }
        }

        writer.WriteBoolean("include_usage"u8, true);
        writer.WriteEndObject();
    }
}
