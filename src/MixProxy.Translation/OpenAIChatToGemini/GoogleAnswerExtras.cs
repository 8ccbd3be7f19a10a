using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>
/// What a Gemini answer says that a Chat Completions message has no field for, carried in Google's vendor field
/// <c>extra_content.google</c>, where Google's OpenAI layer puts thought signatures: the search suggestions, the URLs
/// the URL context tool fetched, the code the model ran and what it printed, inline data that is neither an image nor
/// audio, the media type of an audio answer, the message that explains an odd finish, the candidate's safety ratings
/// and the sources it recited (<c>citationMetadata</c>), its token count and retrieval records, and what the response
/// says beside its candidates (the prompt's feedback, the model version that answered). Names are Google's fields in
/// snake case, as Google's OpenAI layer spells its own. Typed clients ignore the field; nothing is dropped.
/// </summary>
internal sealed class GoogleAnswerExtras
{
    private List<(string? Url, string? Status)>? _urls;
    private List<(bool IsResult, string? LanguageOrOutcome, string? CodeOrOutput)>? _code;
    private List<(string? MimeType, string Data)>? _inlineData;
    private JsonElement? _safetyRatings;
    private List<JsonElement>? _citationSources;
    private JsonElement? _tokenCount;
    private JsonElement? _groundingAttributions;
    private JsonElement? _retrievalMetadata;
    private JsonElement? _promptFeedback;

    /// <summary>Google's search suggestions (<c>webSearchQueries</c>, <c>searchEntryPoint.renderedContent</c>).</summary>
    public GroundingAnnotations.SearchSuggestions Suggestions { get; } = new();

    /// <summary>The candidate's <c>finishMessage</c>: why it stopped, when the reason alone does not say (a malformed call).</summary>
    public string? FinishMessage { get; set; }

    /// <summary>The <c>inlineData.mimeType</c> of an audio answer (Chat's <c>message.audio</c> has no format of its own).</summary>
    public string? AudioMimeType { get; set; }

    /// <summary>
    /// The thought signature Gemini put on a part other than a function call (the last one): Gemini does not validate
    /// these, but asks for them back, and the request side sends it back on the turn's last text part.
    /// </summary>
    public string? TextSignature { get; private set; }

    /// <summary>Keeps the <c>thoughtSignature</c> of <paramref name="part"/>, a part that is not a function call.</summary>
    public void ReadTextSignature(JsonElement part)
    {
        if (UpstreamFields.StringOrNone(UpstreamFields.Field(part, "thoughtSignature")) is { Length: > 0 } signature)
        {
            TextSignature = signature;
        }
    }

    /// <summary>The response's <c>modelVersion</c>: the model that answered, where <c>model</c> is the name the client asked for.</summary>
    public string? ModelVersion { get; set; }

    public bool IsEmpty => Suggestions.IsEmpty && _urls is null && _code is null && _inlineData is null && FinishMessage is null && AudioMimeType is null
        && _safetyRatings is null && _citationSources is null && _tokenCount is null && _groundingAttributions is null && _retrievalMetadata is null
        && _promptFeedback is null && ModelVersion is null && TextSignature is null;

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

    /// <summary>
    /// What the whole response says beside its candidates, carried on every choice (a response has one feedback and
    /// one model version): <c>modelVersion</c>, and <c>promptFeedback</c> (the block reason and the prompt's safety
    /// ratings; the latest a stream sent).
    /// </summary>
    public void ReadResponse(JsonElement response)
    {
        // A stream repeats it on every event: read into a string only when it is new.
        if (UpstreamFields.Field(response, "modelVersion") is { ValueKind: JsonValueKind.String } version
            && (ModelVersion is null || !version.ValueEquals(ModelVersion)) && version.GetString() is { Length: > 0 } named)
        {
            ModelVersion = named;
        }

        if (UpstreamFields.Field(response, "promptFeedback") is { ValueKind: JsonValueKind.Object } feedback && feedback.EnumerateObject().Any())
        {
            _promptFeedback = feedback.Clone();
        }
    }

    /// <summary>Takes what <paramref name="source"/> read with <see cref="ReadResponse"/>.</summary>
    public void TakeResponse(GoogleAnswerExtras source)
    {
        ModelVersion = source.ModelVersion ?? ModelVersion;
        _promptFeedback = source._promptFeedback ?? _promptFeedback;
    }

    /// <summary>
    /// Keeps a candidate's records: its <c>safetyRatings</c> (the latest: a stream repeats them as they change), the
    /// sources of its <c>citationMetadata</c> (each once: a stream adds them as the text that recites them arrives),
    /// its <c>tokenCount</c>, <c>groundingAttributions</c> and <c>groundingMetadata.retrievalMetadata</c> (the latest).
    /// </summary>
    public void ReadCandidateMetadata(JsonElement candidate)
    {
        if (UpstreamFields.Field(candidate, "safetyRatings") is { ValueKind: JsonValueKind.Array } ratings && ratings.GetArrayLength() > 0)
        {
            _safetyRatings = ratings.Clone();
        }

        if (UpstreamFields.Field(candidate, "tokenCount") is { ValueKind: JsonValueKind.Number or JsonValueKind.String } tokenCount)
        {
            _tokenCount = tokenCount.Clone();
        }

        if (UpstreamFields.Field(candidate, "groundingAttributions") is { ValueKind: JsonValueKind.Array } attributions && attributions.GetArrayLength() > 0)
        {
            _groundingAttributions = attributions.Clone();
        }

        if (UpstreamFields.Field(candidate, "groundingMetadata") is { ValueKind: JsonValueKind.Object } grounding
            && UpstreamFields.Field(grounding, "retrievalMetadata") is { ValueKind: JsonValueKind.Object } retrieval && retrieval.EnumerateObject().Any())
        {
            _retrievalMetadata = retrieval.Clone();
        }

        if (UpstreamFields.Field(candidate, "citationMetadata") is { ValueKind: JsonValueKind.Object } citations
            && UpstreamFields.Field(citations, "citationSources") is { ValueKind: JsonValueKind.Array } sources)
        {
            foreach (var source in sources.EnumerateArray())
            {
                if (source.ValueKind == JsonValueKind.Object && !(_citationSources ??= []).Any(known => JsonElement.DeepEquals(known, source)))
                {
                    _citationSources.Add(source.Clone());
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

        if (_safetyRatings is { } safetyRatings)
        {
            writer.WritePropertyName("safety_ratings"u8);
            WriteSnakeCased(writer, safetyRatings);
        }

        if (_citationSources is not null)
        {
            writer.WritePropertyName("citation_metadata"u8);
            writer.WriteStartObject();
            writer.WritePropertyName("citation_sources"u8);
            writer.WriteStartArray();
            foreach (var source in _citationSources)
            {
                WriteSnakeCased(writer, source);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        WriteIfPresent(writer, "audio_mime_type"u8, AudioMimeType);
        WriteIfPresent(writer, "finish_message"u8, FinishMessage);
        WriteSnakeCasedIfPresent(writer, "token_count"u8, _tokenCount);
        WriteSnakeCasedIfPresent(writer, "grounding_attributions"u8, _groundingAttributions);
        WriteSnakeCasedIfPresent(writer, "retrieval_metadata"u8, _retrievalMetadata);
        WriteSnakeCasedIfPresent(writer, "prompt_feedback"u8, _promptFeedback);
        WriteIfPresent(writer, "model_version"u8, ModelVersion);
        WriteIfPresent(writer, "thought_signature"u8, TextSignature);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteSnakeCasedIfPresent(Utf8JsonWriter writer, ReadOnlySpan<byte> name, JsonElement? value)
    {
        if (value is { } present)
        {
            writer.WritePropertyName(name);
            WriteSnakeCased(writer, present);
        }
    }

    /// <summary>A Gemini value with its member names in snake case, as the rest of the vendor field spells Google's names.</summary>
    internal static void WriteSnakeCased(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var member in value.EnumerateObject())
                {
                    writer.WritePropertyName(SnakeCase(member.Name));
                    WriteSnakeCased(writer, member.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteSnakeCased(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }

    private static string SnakeCase(string name)
    {
        var snake = new System.Text.StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                snake.Append('_').Append(char.ToLowerInvariant(c));
            }
            else
            {
                snake.Append(c);
            }
        }

        return snake.ToString();
    }

    private static void WriteIfPresent(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}
