using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>
/// What a Gemini answer says that a Chat Completions message has no field for, carried in Google's vendor field
/// <c>extra_content.google</c>, where Google's OpenAI layer puts thought signatures: the search suggestions, the URLs
/// the URL context tool fetched, the code the model ran and what it printed, inline data that is neither an image nor
/// audio, the media type of an audio answer, and the message that explains an odd finish. Names are Google's fields
/// in snake case, as Google's OpenAI layer spells its own. Typed clients ignore the field; nothing is dropped.
/// </summary>
internal sealed class GoogleAnswerExtras
{
    private List<(string? Url, string? Status)>? _urls;
    private List<(bool IsResult, string? LanguageOrOutcome, string? CodeOrOutput)>? _code;
    private List<(string? MimeType, string Data)>? _inlineData;

    /// <summary>Google's search suggestions (<c>webSearchQueries</c>, <c>searchEntryPoint.renderedContent</c>).</summary>
    public GroundingAnnotations.SearchSuggestions Suggestions { get; } = new();

    /// <summary>The candidate's <c>finishMessage</c>: why it stopped, when the reason alone does not say (a malformed call).</summary>
    public string? FinishMessage { get; set; }

    /// <summary>The <c>inlineData.mimeType</c> of an audio answer (Chat's <c>message.audio</c> has no format of its own).</summary>
    public string? AudioMimeType { get; set; }

    public bool IsEmpty => Suggestions.IsEmpty && _urls is null && _code is null && _inlineData is null && FinishMessage is null && AudioMimeType is null;

    public bool HasCode => _code is not null;

    /// <summary>Adds the URLs of a candidate's <c>urlContextMetadata.urlMetadata</c>, each once.</summary>
    public void ReadUrlContext(JsonElement candidate)
    {
        if (UpstreamFields.Field(candidate, "urlContextMetadata") is not { ValueKind: JsonValueKind.Object } metadata
            || UpstreamFields.Field(metadata, "urlMetadata") is not { ValueKind: JsonValueKind.Array } urls)
        {
            return;
        }

        foreach (var url in urls.EnumerateArray())
        {
            if (url.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var entry = (UpstreamFields.StringOrNone(UpstreamFields.Field(url, "retrievedUrl")), UpstreamFields.StringOrNone(UpstreamFields.Field(url, "urlRetrievalStatus")));
            if (entry.Item1 is not null || entry.Item2 is not null)
            {
                if (!(_urls ??= []).Contains(entry))
                {
                    _urls.Add(entry);
                }
            }
        }
    }

    /// <summary>Keeps an <c>executableCode</c> or <c>codeExecutionResult</c> part; false when the part is neither.</summary>
    public bool TryAddCode(JsonElement part)
    {
        if (UpstreamFields.Field(part, "executableCode") is { ValueKind: JsonValueKind.Object } code)
        {
            (_code ??= []).Add((false, UpstreamFields.StringOrNone(UpstreamFields.Field(code, "language")), UpstreamFields.StringOrNone(UpstreamFields.Field(code, "code"))));
            return true;
        }

        if (UpstreamFields.Field(part, "codeExecutionResult") is { ValueKind: JsonValueKind.Object } result)
        {
            (_code ??= []).Add((true, UpstreamFields.StringOrNone(UpstreamFields.Field(result, "outcome")), UpstreamFields.StringOrNone(UpstreamFields.Field(result, "output"))));
            return true;
        }

        return false;
    }

    /// <summary>Keeps inline data that has no standard place in a Chat message (neither an image nor audio).</summary>
    public void AddInlineData(string? mimeType, string data) => (_inlineData ??= []).Add((mimeType, data));

    /// <summary>Writes <c>extra_content</c> when there is anything to carry.</summary>
    public void Write(Utf8JsonWriter writer)
    {
        if (IsEmpty)
        {
            return;
        }

        writer.WritePropertyName("extra_content"u8);
        writer.WriteStartObject();
        writer.WritePropertyName("google"u8);
        writer.WriteStartObject();
        Suggestions.WriteFields(writer);
        if (_urls is not null)
        {
            writer.WritePropertyName("url_context_metadata"u8);
            writer.WriteStartObject();
            writer.WritePropertyName("url_metadata"u8);
            writer.WriteStartArray();
            foreach (var (url, status) in _urls)
            {
                writer.WriteStartObject();
                WriteIfPresent(writer, "retrieved_url"u8, url);
                WriteIfPresent(writer, "url_retrieval_status"u8, status);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        if (_code is not null)
        {
            // In the order the model wrote and ran it, each result after its code.
            writer.WritePropertyName("code_execution"u8);
            writer.WriteStartArray();
            foreach (var (isResult, languageOrOutcome, codeOrOutput) in _code)
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, isResult ? "code_execution_result" : "executable_code");
                WriteIfPresent(writer, isResult ? "outcome"u8 : "language"u8, languageOrOutcome);
                WriteIfPresent(writer, isResult ? "output"u8 : "code"u8, codeOrOutput);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (_inlineData is not null)
        {
            writer.WritePropertyName("inline_data"u8);
            writer.WriteStartArray();
            foreach (var (mimeType, data) in _inlineData)
            {
                writer.WriteStartObject();
                WriteIfPresent(writer, "mime_type"u8, mimeType);
                writer.WriteString("data"u8, data);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        WriteIfPresent(writer, "audio_mime_type"u8, AudioMimeType);
        WriteIfPresent(writer, "finish_message"u8, FinishMessage);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteIfPresent(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}
