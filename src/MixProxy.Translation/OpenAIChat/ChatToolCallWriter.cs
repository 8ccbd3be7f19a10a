using System.Text.Json;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>
/// One Chat Completions tool call, <c>{index?, id, type: "function", function: {name, arguments}, extra_content?}</c>,
/// as every writer of Chat bodies spells it: a thought signature rides where Google's OpenAI layer puts it,
/// <c>extra_content.google.thought_signature</c>.
/// </summary>
internal static class ChatToolCallWriter
{
    public static void Write(Utf8JsonWriter writer, string id, string name, string arguments, string? thoughtSignature = null, int? index = null)
    {
        writer.WriteStartObject();
        if (index is { } i)
        {
            writer.WriteNumber("index"u8, i);
        }

        writer.WriteString("id"u8, id);
        writer.WriteString("type"u8, "function");
        writer.WritePropertyName("function"u8);
        writer.WriteStartObject();
        writer.WriteString("name"u8, name);
        writer.WriteString("arguments"u8, arguments);
        writer.WriteEndObject();
        if (thoughtSignature is not null)
        {
            writer.WritePropertyName("extra_content"u8);
            writer.WriteStartObject();
            writer.WritePropertyName("google"u8);
            writer.WriteStartObject();
            writer.WriteString("thought_signature"u8, thoughtSignature);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
