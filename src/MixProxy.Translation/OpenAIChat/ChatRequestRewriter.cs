using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>
/// Same-protocol Chat Completions: the body goes upstream as sent, but for the model name when an alias maps it,
/// and <c>stream_options.include_usage</c> when the gateway needs the stream's usage for token limits.
/// </summary>
internal static class ChatRequestRewriter
{
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
