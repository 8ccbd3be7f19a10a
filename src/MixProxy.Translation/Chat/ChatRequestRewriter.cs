using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.Chat;

/// <summary>Same-protocol Chat Completions: the body goes upstream as sent, but for the model name when an alias maps it.</summary>
public static class ChatRequestRewriter
{
    public static void ReplaceModel(JsonElement request, string upstreamModel, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        writer.WriteStartObject();
        foreach (var property in request.EnumerateObject())
        {
            if (property.NameEquals("model"u8))
            {
                writer.WriteString("model"u8, upstreamModel);
            }
            else
            {
                property.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
    }
}
