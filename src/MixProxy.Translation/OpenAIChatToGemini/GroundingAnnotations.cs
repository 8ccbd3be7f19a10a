using System.Text;
using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>
/// Google Search grounding as OpenAI <c>url_citation</c> annotations. Gemini gives each supported segment in UTF-8
/// byte offsets (<c>startIndex</c> omitted when 0) and points at sources by index into <c>groundingChunks</c>; OpenAI
/// wants character offsets into the message content and the source inline.
/// </summary>
internal static class GroundingAnnotations
{
    /// <summary>One grounding chunk: the web page a segment is drawn from (either may be missing).</summary>
    internal readonly record struct Source(string? Url, string? Title);

    /// <summary>One grounding support: a byte range of a part and the sources behind it.</summary>
    internal readonly record struct Support(int PartIndex, int StartByte, int EndByte, int[] SourceIndices);

    /// <summary>
    /// Whole responses: offsets are within one part, shifted by where that part starts in the content. Callers check
    /// for <c>groundingMetadata</c> first (they need the part map only then).
    /// </summary>
    public static void Write(Utf8JsonWriter writer, JsonElement candidate, IReadOnlyDictionary<int, (int Start, string Text)> partStarts)
    {
        var sources = new List<Source>();
        var supports = new List<Support>();
        if (!Read(candidate, sources, supports))
        {
            return;
        }

        var citations = new List<(int Start, int End, Source Source)>();
        foreach (var support in supports)
        {
            if (partStarts.TryGetValue(support.PartIndex, out var part))
            {
                var bytes = Encoding.UTF8.GetBytes(part.Text);
                AddCitations(citations, support, sources, part.Start + CharsIn(bytes, support.StartByte), part.Start + CharsIn(bytes, support.EndByte));
            }
        }

        WriteCitations(writer, citations);
    }

    /// <summary>
    /// Streams: sources and supports gathered over every event (support indices count sources across all of them),
    /// offsets taken within the choice's whole visible text.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, IReadOnlyList<Source> sources, IReadOnlyList<Support> supports, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var citations = new List<(int Start, int End, Source Source)>();
        foreach (var support in supports)
        {
            AddCitations(citations, support, sources, CharsIn(bytes, support.StartByte), CharsIn(bytes, support.EndByte));
        }

        WriteCitations(writer, citations);
    }

    /// <summary>Adds the candidate's grounding chunks and supports to the lists; false when it has no grounding.</summary>
    public static bool Read(JsonElement candidate, List<Source> sources, List<Support> supports)
    {
        if (!candidate.TryGetProperty("groundingMetadata", out var grounding) || grounding.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (grounding.TryGetProperty("groundingChunks", out var chunks) && chunks.ValueKind == JsonValueKind.Array)
        {
            foreach (var chunk in chunks.EnumerateArray())
            {
                sources.Add(chunk.ValueKind == JsonValueKind.Object && chunk.TryGetProperty("web", out var web) && web.ValueKind == JsonValueKind.Object
                    ? new Source(StringOf(web, "uri"), StringOf(web, "title"))
                    : default);
            }
        }

        if (grounding.TryGetProperty("groundingSupports", out var supportList) && supportList.ValueKind == JsonValueKind.Array)
        {
            foreach (var support in supportList.EnumerateArray())
            {
                if (support.ValueKind != JsonValueKind.Object
                    || !support.TryGetProperty("segment", out var segment) || segment.ValueKind != JsonValueKind.Object
                    || !support.TryGetProperty("groundingChunkIndices", out var indices) || indices.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                supports.Add(new Support(
                    IntOf(segment, "partIndex"),
                    IntOf(segment, "startIndex"),
                    IntOf(segment, "endIndex"),
                    [.. indices.EnumerateArray().Select(UpstreamFields.Int32OrNone).OfType<int>()]));
            }
        }

        return true;
    }

    /// <summary>
    /// Google's search suggestions for a grounded answer: the queries it ran and the chips it rendered, which Google
    /// requires apps to show with the answer. OpenAI has no place for them, so they ride where Google's OpenAI layer puts
    /// Gemini's own data (as thought signatures do): <c>extra_content.google</c> of the message (or, streamed, of the
    /// finish chunk's delta), as <c>web_search_queries</c> and <c>search_entry_point.rendered_content</c>.
    /// </summary>
    internal sealed class SearchSuggestions
    {
        private List<string>? _queries;
        private string? _renderedContent;

        /// <summary>Adds what a candidate's grounding brings: new queries in order, the latest rendered chips.</summary>
        public void Read(JsonElement candidate)
        {
            if (!candidate.TryGetProperty("groundingMetadata", out var grounding) || grounding.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (grounding.TryGetProperty("webSearchQueries", out var queries) && queries.ValueKind == JsonValueKind.Array)
            {
                foreach (var query in queries.EnumerateArray())
                {
                    if (query.ValueKind == JsonValueKind.String && query.GetString() is { Length: > 0 } q && !(_queries ??= []).Contains(q))
                    {
                        _queries.Add(q);
                    }
                }
            }

            if (grounding.TryGetProperty("searchEntryPoint", out var entry) && entry.ValueKind == JsonValueKind.Object && StringOf(entry, "renderedContent") is { Length: > 0 } rendered)
            {
                _renderedContent = rendered;
            }
        }

        /// <summary>Whether there is anything to show.</summary>
        public bool IsEmpty => _queries is null && _renderedContent is null;

        /// <summary>Writes its fields of <c>extra_content.google</c> (<see cref="GoogleAnswerExtras"/> writes the object around them).</summary>
        public void WriteFields(Utf8JsonWriter writer)
        {
            if (_queries is not null)
            {
                writer.WritePropertyName("web_search_queries"u8);
                writer.WriteStartArray();
                foreach (var query in _queries)
                {
                    writer.WriteStringValue(query);
                }

                writer.WriteEndArray();
            }

            if (_renderedContent is not null)
            {
                writer.WritePropertyName("search_entry_point"u8);
                writer.WriteStartObject();
                writer.WriteString("rendered_content"u8, _renderedContent);
                writer.WriteEndObject();
            }
        }
    }

    private static void AddCitations(List<(int Start, int End, Source Source)> citations, Support support, IReadOnlyList<Source> sources, int start, int end)
    {
        foreach (var i in support.SourceIndices)
        {
            // A support may point at a chunk that is not a web page (or past the end): there is nothing to cite.
            if (i >= 0 && i < sources.Count && sources[i].Url is not null)
            {
                citations.Add((start, end, sources[i]));
            }
        }
    }

    private static void WriteCitations(Utf8JsonWriter writer, List<(int Start, int End, Source Source)> citations)
    {
        if (citations.Count == 0)
        {
            return;
        }

        writer.WritePropertyName("annotations"u8);
        writer.WriteStartArray();
        foreach (var (start, end, source) in citations)
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "url_citation");
            writer.WritePropertyName("url_citation"u8);
            writer.WriteStartObject();
            writer.WriteNumber("start_index"u8, start);
            writer.WriteNumber("end_index"u8, end);
            writer.WriteString("url"u8, source.Url);
            writer.WriteString("title"u8, source.Title ?? string.Empty);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // Grounding is an extra: an offset that is not a whole number reads as absent (0, as proto3 JSON leaves zeros out).
    private static int IntOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? UpstreamFields.Int32OrNone(value) ?? 0 : 0;

    /// <summary>How many UTF-16 characters the first <paramref name="utf8Bytes"/> bytes of a UTF-8 text hold.</summary>
    private static int CharsIn(byte[] text, int utf8Bytes) => Encoding.UTF8.GetCharCount(text, 0, Math.Clamp(utf8Bytes, 0, text.Length));
}
