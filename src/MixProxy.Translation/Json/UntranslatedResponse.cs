using System.Buffers;
using System.Text;
using System.Text.Json;

namespace MixProxy.Translation.Json;

/// <summary>
/// A whole (non-streamed) response passed through in its own protocol, read once: its usage is taken for limits and
/// metrics and, when asked, the provider page's <c>"output": {"text": …}</c> field is added, every other field left
/// exactly as the upstream sent it.
/// </summary>
public static class UntranslatedResponse
{
    /// <summary>The provider page's <c>"output": {"text": …}</c> property, as every non-streamed response carries it.</summary>
    internal static void WriteOutputText(Utf8JsonWriter writer, string? text)
    {
        writer.WritePropertyName("output"u8);
        writer.WriteStartObject();
        writer.WriteString("text"u8, text ?? string.Empty);
        writer.WriteEndObject();
    }

    /// <summary>
    /// Reads <paramref name="body"/>'s usage; with <paramref name="outputTextTo"/>, also writes the body with
    /// <c>output.text</c> added there and returns true (false, writing nothing, when the body is not a JSON object or
    /// already has <c>output</c>).
    /// </summary>
    public static bool Read(ReadOnlySpan<byte> body, ApiProtocol protocol, IBufferWriter<byte>? outputTextTo, out TokenUsage? usage)
    {
        usage = null;
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            usage = Usage.UsageReader.FromResponse(root, protocol);
            if (outputTextTo is not { } output || root.ValueKind != JsonValueKind.Object || root.TryGetProperty("output", out _))
            {
                return false;
            }

            using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
            writer.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                property.WriteTo(writer);
            }

            WriteOutputText(writer, protocol == ApiProtocol.Gemini ? GeminiText(root) : ChatText(root));
            writer.WriteEndObject();
            return true;
        }
    }

    private static string GeminiText(JsonElement root)
    {
        var text = new StringBuilder();
        if (root.TryGetProperty("candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array && candidates.GetArrayLength() > 0
            && candidates[0].TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object
            && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
        {
            foreach (var part in parts.EnumerateArray())
            {
                var isThought = part.TryGetProperty("thought", out var thought) && thought.ValueKind == JsonValueKind.True;
                if (!isThought && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                {
                    text.Append(t.GetString());
                }
            }
        }

        return text.ToString();
    }

    private static string ChatText(JsonElement root) =>
        root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
        && choices[0].TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object
        && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
            ? content.GetString()!
            : string.Empty;
}
