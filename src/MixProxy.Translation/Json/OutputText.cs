using System.Buffers;
using System.Text.Json;

namespace MixProxy.Translation.Json;

/// <summary>
/// The provider page's <c>"output": {"text": …}</c>: the answer's text in one field, on every whole (non-streamed)
/// generation response whatever its protocol, unless the route turns it off.
/// </summary>
public static class OutputText
{
    /// <summary>Writes the <c>output</c> property.</summary>
    public static void Write(Utf8JsonWriter writer, string? text)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WritePropertyName("output"u8);
        writer.WriteStartObject();
        writer.WriteString("text"u8, text ?? string.Empty);
        writer.WriteEndObject();
    }

    /// <summary>
    /// Writes <paramref name="response"/> with <c>output.text</c> added, every other field exactly as it came, and
    /// returns true; returns false, writing nothing, when it is not a JSON object or already has an <c>output</c>.
    /// </summary>
    public static bool TryAdd(JsonElement response, Func<JsonElement, string> text, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (response.ValueKind != JsonValueKind.Object || response.TryGetProperty("output"u8, out _))
        {
            return false;
        }

        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        writer.WriteStartObject();
        foreach (var property in response.EnumerateObject())
        {
            property.WriteTo(writer);
        }

        Write(writer, text(response));
        writer.WriteEndObject();
        return true;
    }
}
