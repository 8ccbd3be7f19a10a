using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>A <c>url_citation</c> of a Chat answer: the cited span of its text (UTF-16 offsets, as OpenAI's) and its source.</summary>
internal readonly record struct ChatUrlCitation(int Start, int End, string Url, string Title);

/// <summary>
/// Reads Chat's <c>annotations</c> (<c>{"type":"url_citation","url_citation":{…}}</c>) for the bridges that answer
/// other APIs from a Chat answer; other annotation types carry nothing they show.
/// </summary>
internal static class ChatUrlCitations
{
    public static void Read(JsonElement annotations, List<ChatUrlCitation> into)
    {
        if (annotations.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var annotation in annotations.EnumerateArray())
        {
            if (annotation.ValueKind == JsonValueKind.Object
                && UpstreamFields.StringOrNone(UpstreamFields.Field(annotation, "type")) == "url_citation"
                && UpstreamFields.Field(annotation, "url_citation") is { ValueKind: JsonValueKind.Object } citation
                && UpstreamFields.StringOrNone(UpstreamFields.Field(citation, "url")) is { } url)
            {
                // Citations are an extra: an offset that is not a whole number reads as 0.
                into.Add(new ChatUrlCitation(
                    UpstreamFields.Int32OrNone(UpstreamFields.Field(citation, "start_index")) ?? 0,
                    UpstreamFields.Int32OrNone(UpstreamFields.Field(citation, "end_index")) ?? 0,
                    url,
                    UpstreamFields.StringOrNone(UpstreamFields.Field(citation, "title")) ?? string.Empty));
            }
        }
    }
}
