using System.Text;
using System.Text.Json;

namespace MixProxy.Translation.Gemini;

/// <summary>
/// Google Search grounding as OpenAI <c>url_citation</c> annotations. Gemini gives each supported segment in UTF-8
/// byte offsets within one part (<c>startIndex</c> omitted when 0); OpenAI wants character offsets in the message
/// content, so offsets are converted and shifted by where the part starts.
/// </summary>
internal static class GroundingAnnotations
{
    public static void Write(Utf8JsonWriter writer, JsonElement candidate, IReadOnlyDictionary<int, (int Start, string Text)> partStarts)
    {
        if (!candidate.TryGetProperty("groundingMetadata", out var grounding) || grounding.ValueKind != JsonValueKind.Object
            || !grounding.TryGetProperty("groundingSupports", out var supports) || supports.ValueKind != JsonValueKind.Array
            || !grounding.TryGetProperty("groundingChunks", out var chunks) || chunks.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var sources = chunks.EnumerateArray()
            .Select(c => c.TryGetProperty("web", out var web) && web.ValueKind == JsonValueKind.Object
                ? (Url: web.TryGetProperty("uri", out var u) ? u.GetString() : null, Title: web.TryGetProperty("title", out var t) ? t.GetString() : null)
                : (null, null))
            .ToList();

        var started = false;
        foreach (var support in supports.EnumerateArray())
        {
            if (!support.TryGetProperty("segment", out var segment) || segment.ValueKind != JsonValueKind.Object
                || !support.TryGetProperty("groundingChunkIndices", out var indices) || indices.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var partIndex = segment.TryGetProperty("partIndex", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : 0;
            if (!partStarts.TryGetValue(partIndex, out var part))
            {
                continue;
            }

            var startByte = segment.TryGetProperty("startIndex", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : 0;
            var endByte = segment.TryGetProperty("endIndex", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetInt32() : 0;
            var start = part.Start + CharsIn(part.Text, startByte);
            var end = part.Start + CharsIn(part.Text, endByte);
            foreach (var index in indices.EnumerateArray())
            {
                if (index.ValueKind != JsonValueKind.Number || index.GetInt32() is var i && (i < 0 || i >= sources.Count) || sources[i].Url is null)
                {
                    continue;
                }

                if (!started)
                {
                    writer.WritePropertyName("annotations"u8);
                    writer.WriteStartArray();
                    started = true;
                }

                writer.WriteStartObject();
                writer.WriteString("type"u8, "url_citation");
                writer.WritePropertyName("url_citation"u8);
                writer.WriteStartObject();
                writer.WriteNumber("start_index"u8, start);
                writer.WriteNumber("end_index"u8, end);
                writer.WriteString("url"u8, sources[index.GetInt32()].Url);
                writer.WriteString("title"u8, sources[index.GetInt32()].Title ?? string.Empty);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
        }

        if (started)
        {
            writer.WriteEndArray();
        }
    }

    /// <summary>How many UTF-16 characters the first <paramref name="utf8Bytes"/> bytes of <paramref name="text"/> hold.</summary>
    private static int CharsIn(string text, int utf8Bytes)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return Encoding.UTF8.GetCharCount(bytes, 0, Math.Clamp(utf8Bytes, 0, bytes.Length));
    }
}
