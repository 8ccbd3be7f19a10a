using System.Buffers;
using System.Text.Json;
using System.Text;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>Translates a Gemini <c>GenerateContentResponse</c> into an OpenAI <c>chat.completion</c>.</summary>
public static class GeminiToChatResponseTranslator
{
    private const string NotGemini = "The upstream returned a response that is not valid Gemini JSON: ";

    /// <summary>Writes the chat completion for <paramref name="geminiResponse"/> and returns the usage it reported.</summary>
    /// <exception cref="UpstreamResponseException">The response is not JSON, or not of a shape that can be translated.</exception>
    /// <remarks>With <c>oneCallPerStep</c> (the client sent <c>parallel_tool_calls: false</c>) only each choice's first call is kept.</remarks>
    /// <remarks>Fields the Chat answer has no place for are reported to <paramref name="outcome"/> when one is given.</remarks>
    public static TokenUsage? Translate(ReadOnlySpan<byte> geminiResponse, ResponseContext context, IBufferWriter<byte> output, ThoughtSignatureBag? signatures = null, bool oneCallPerStep = false, ExchangeOutcome? outcome = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        JsonDocument parsed;
        try
        {
            var reader = new Utf8JsonReader(geminiResponse);
            parsed = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new UpstreamResponseException(NotGemini + e.Message, e);
        }

        using var document = parsed;
        if (!JsonText.IsValid(geminiResponse))
        {
            throw new UpstreamResponseException(NotGemini + "it holds text that is not valid Unicode.");
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new UpstreamResponseException(NotGemini + "A Gemini response must be a JSON object.");
        }

        var usage = GeminiUsage.Read(root);
        if (outcome is not null)
        {
            GeminiAnswerInventory.Check(root, outcome);
        }

        string? firstText = null;
        var responseExtras = new GoogleAnswerExtras();
        responseExtras.ReadResponse(root);

        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("id"u8, GeminiToChatWriting.CompletionId(root));
        writer.WriteString("object"u8, "chat.completion");
        writer.WriteNumber("created"u8, context.Created);
        writer.WriteString("model"u8, context.ClientModel);
        writer.WritePropertyName("choices"u8);
        writer.WriteStartArray();

        var candidateCount = 0;
        if (root.TryGetProperty("candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array)
        {
            foreach (var candidate in candidates.EnumerateArray())
            {
                var text = WriteChoice(writer, UpstreamFields.RequireObject(candidate, "candidate"), candidateCount, signatures, oneCallPerStep, context.Created, responseExtras);
                if (candidateCount == 0)
                {
                    firstText = text; // output.text is the first choice's text, never a later one's
                }

                candidateCount++;
            }
        }

        if (candidateCount == 0)
        {
            // A blocked prompt has no candidates at all; the client still gets one choice that says so.
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, 0);
            writer.WritePropertyName("message"u8);
            writer.WriteStartObject();
            writer.WriteString("role"u8, "assistant");
            writer.WriteNull("content"u8);
            responseExtras.Write(writer); // the prompt's feedback: its block reason and the safety ratings behind it
            writer.WriteEndObject();
            writer.WriteNull("logprobs"u8);
            var blockReason = GeminiToChatWriting.PromptBlockReason(root);
            writer.WriteString("finish_reason"u8, blockReason is null ? "stop" : "content_filter");
            if (blockReason is not null)
            {
                writer.WriteString("native_finish_reason"u8, blockReason);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        if (usage is { } u)
        {
            writer.WritePropertyName("usage"u8);
            GeminiToChatWriting.WriteUsage(writer, u, UpstreamFields.Field(root, GeminiVocabulary.UsageMetadata));
        }

        if (context.IncludeOutputText)
        {
            OutputText.Write(writer, firstText);
        }

        writer.WriteEndObject();
        writer.Flush();
        return usage;
    }

    /// <summary>Writes one choice and returns its visible text (null when it has none).</summary>
    private static string? WriteChoice(Utf8JsonWriter writer, JsonElement candidate, int position, ThoughtSignatureBag? signatures, bool oneCallPerStep, long created, GoogleAnswerExtras responseExtras)
    {
        var index = UpstreamFields.Int32(UpstreamFields.Field(candidate, "index"), "candidate index") ?? position;
        var text = default(TextParts);
        var reasoning = default(TextParts);
        List<(JsonElement Call, JsonElement Part)>? toolCalls = null;
        List<(string? MimeType, string Data)>? images = null;
        List<string>? audio = null;
        var extras = new GoogleAnswerExtras();
        var codeAfterText = false;

        // Where each visible text part starts in the concatenated content (for grounding citations, so only when
        // there is grounding: most responses have none and should not pay for the map).
        var partStarts = candidate.TryGetProperty("groundingMetadata", out _) ? new Dictionary<int, (int Start, string Text)>() : null;
        if (candidate.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object
            && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
        {
            var partIndex = 0;
            foreach (var part in parts.EnumerateArray())
            {
                if (UpstreamFields.RequireObject(part, "part").TryGetProperty("functionCall", out var call) && call.ValueKind == JsonValueKind.Object)
                {
                    GeminiToChatWriting.CheckFunctionCall(call);
                    if (!oneCallPerStep || toolCalls is null)
                    {
                        (toolCalls ??= []).Add((call, part));
                    }

                    partIndex++;
                    continue;
                }

                extras.ReadTextSignature(part);
                if (part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                {
                    var value = t.GetString()!;
                    if (part.TryGetProperty("thought", out var thought) && thought.ValueKind == JsonValueKind.True)
                    {
                        reasoning.Append(value);
                    }
                    else
                    {
                        if (codeAfterText && value.Length > 0)
                        {
                            // Code the model ran stood between these texts: a paragraph break keeps them apart.
                            text.Append(CodeSeparator);
                            codeAfterText = false;
                        }

                        partStarts?.Add(partIndex, (text.Length, value));
                        text.Append(value);
                    }
                }
                else if (extras.TryAddCode(part))
                {
                    codeAfterText |= text.Length > 0;
                }
                else if (GeminiToChatWriting.TryReadInlineData(part, out var mimeType, out var data))
                {
                    if (GeminiToChatWriting.IsImage(mimeType))
                    {
                        (images ??= []).Add((mimeType, data));
                    }
                    else if (GeminiToChatWriting.IsAudio(mimeType) && (extras.AudioMimeType is null || extras.AudioMimeType == mimeType))
                    {
                        extras.AudioMimeType = mimeType;
                        (audio ??= []).Add(data);
                    }
                    else
                    {
                        extras.AddInlineData(mimeType, data);
                    }
                }

                partIndex++;
            }
        }

        writer.WriteStartObject();
        writer.WriteNumber("index"u8, index);
        writer.WritePropertyName("message"u8);
        writer.WriteStartObject();
        writer.WriteString("role"u8, "assistant");
        var visible = text.Value;
        if (visible is null)
        {
            writer.WriteNull("content"u8);
        }
        else
        {
            writer.WriteString("content"u8, visible);
        }

        if (reasoning.Value is { } thoughts)
        {
            writer.WriteString("reasoning_content"u8, thoughts);
        }

        if (images is not null)
        {
            writer.WritePropertyName("images"u8);
            writer.WriteStartArray();
            for (var i = 0; i < images.Count; i++)
            {
                GeminiToChatWriting.WriteImage(writer, i, images[i].MimeType, images[i].Data);
            }

            writer.WriteEndArray();
        }

        if (audio is not null)
        {
            // Chat's audio answer; the gateway keeps no audio to refer back to, so it expires as it is made.
            writer.WritePropertyName("audio"u8);
            writer.WriteStartObject();
            writer.WriteString("id"u8, GeminiToChatWriting.NewAudioId());
            writer.WriteString("data"u8, JoinedAudio(audio));
            writer.WriteNumber("expires_at"u8, created);
            writer.WriteString("transcript"u8, string.Empty);
            writer.WriteEndObject();
        }

        if (partStarts is not null)
        {
            GroundingAnnotations.Write(writer, candidate, partStarts);
            extras.Suggestions.Read(candidate);
        }

        extras.ReadUrlContext(candidate);
        extras.ReadCandidateMetadata(candidate);
        extras.FinishMessage = UpstreamFields.StringOrNone(UpstreamFields.Field(candidate, "finishMessage"));
        extras.TakeResponse(responseExtras);
        extras.Write(writer);

        if (toolCalls is not null)
        {
            writer.WritePropertyName("tool_calls"u8);
            writer.WriteStartArray();
            foreach (var (call, part) in toolCalls)
            {
                GeminiToChatWriting.WriteFunctionCall(writer, call, part, GeminiToChatWriting.ToolCallIdFor(call), index: null, signatures);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        GeminiLogprobsToChat.WriteOpenAI(writer, candidate);
        var native = candidate.TryGetProperty("finishReason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        writer.WriteString("finish_reason"u8, GeminiToChatWriting.MapFinishReason(native ?? "STOP", toolCalls is not null));
        GeminiToChatWriting.WriteNativeFinishReason(writer, native);
        writer.WriteEndObject();
        return visible;
    }

    /// <summary>What goes between two texts that code the model ran stood between (the code is in the vendor field).</summary>
    internal const string CodeSeparator = "\n\n";

    /// <summary>
    /// The audio parts of one answer as one: Gemini's speech comes as raw PCM (<c>audio/L16</c>) in pieces, which join
    /// by their bytes. One part is used as it came.
    /// </summary>
    internal static string JoinedAudio(List<string> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        using var joined = new MemoryStream();
        foreach (var part in parts)
        {
            try
            {
                joined.Write(Convert.FromBase64String(part));
            }
            catch (FormatException e)
            {
                throw new UpstreamResponseException("The upstream sent audio whose data is not base64.", e);
            }
        }

        return Convert.ToBase64String(joined.GetBuffer(), 0, (int)joined.Length);
    }

    /// <summary>
    /// Text parts joined: most candidates have one, which is then used as is, without a builder and a second copy.
    /// </summary>
    private struct TextParts
    {
        private string? _first;
        private StringBuilder? _joined;

        public readonly int Length => _joined?.Length ?? _first?.Length ?? 0;

        public readonly string? Value => _joined?.ToString() ?? _first;

        public void Append(string part)
        {
            if (_first is null && _joined is null)
            {
                _first = part;
                return;
            }

            (_joined ??= new StringBuilder(_first)).Append(part);
        }
    }
}
