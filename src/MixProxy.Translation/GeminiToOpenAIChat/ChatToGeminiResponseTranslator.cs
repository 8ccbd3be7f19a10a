using System.Buffers;
using System.Text;
using System.Text.Json;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.GeminiToOpenAIChat;

/// <summary>Translates an OpenAI <c>chat.completion</c> into Gemini's <c>GenerateContentResponse</c>.</summary>
public static class ChatToGeminiResponseTranslator
{
    private const string NotChatCompletion = "The upstream returned a response that is not valid Chat Completions JSON: ";

    /// <summary>Writes the <c>GenerateContentResponse</c> for <paramref name="completion"/> and returns its usage.</summary>
    /// <exception cref="UpstreamResponseException">The response is not JSON, or not of a shape that can be translated.</exception>
    /// <remarks>Fields the Gemini answer has no place for are reported to <paramref name="outcome"/> when one is given.</remarks>
    public static TokenUsage? Translate(ReadOnlySpan<byte> completion, ResponseContext context, IBufferWriter<byte> output, ExchangeOutcome? outcome = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        JsonDocument parsed;
        try
        {
            var reader = new Utf8JsonReader(completion);
            parsed = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new UpstreamResponseException(NotChatCompletion + e.Message, e);
        }

        using var document = parsed;
        if (!JsonText.IsValid(completion))
        {
            throw new UpstreamResponseException(NotChatCompletion + "it holds text that is not valid Unicode.");
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new UpstreamResponseException(NotChatCompletion + "A chat completion must be a JSON object.");
        }

        var usage = OpenAIChatUsage.Read(root);
        if (outcome is not null)
        {
            ChatAnswerInventory.Check(root, outcome);
        }

        string? firstText = null;
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        writer.WriteStartObject();
        writer.WritePropertyName("candidates"u8);
        writer.WriteStartArray();
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            var position = 0;
            foreach (var choice in choices.EnumerateArray())
            {
                UpstreamFields.RequireObject(choice, "choice");
                var index = UpstreamFields.Int32(UpstreamFields.Field(choice, "index"), "choice index") ?? position;
                position++;
                var message = UpstreamFields.Field(choice, "message");

                // An odd finish reason reads as none, as an unknown one reads as a stop: the answer itself is intact.
                var text = WriteCandidate(writer, index, choice, message, UpstreamFields.StringOrNone(UpstreamFields.Field(choice, "finish_reason")));
                if (position == 1)
                {
                    firstText = text; // output.text is the first candidate's text, never a later one's
                }
            }
        }

        writer.WriteEndArray();
        if (usage is { } u)
        {
            WriteUsageMetadata(writer, u);
        }

        writer.WriteString("modelVersion"u8, context.ClientModel);
        if (UpstreamFields.StringOrNone(UpstreamFields.Field(root, "id")) is { Length: > 0 } responseId)
        {
            writer.WriteString("responseId"u8, responseId);
        }

        if (context.IncludeOutputText)
        {
            OutputText.Write(writer, firstText);
        }

        writer.WriteEndObject();
        return usage;
    }

    private static string? WriteCandidate(Utf8JsonWriter writer, int index, JsonElement choice, JsonElement message, string? finishReason)
    {
        string? text = null;
        writer.WriteStartObject();
        StartModelParts(writer);
        var wroteAny = false;
        if (message.ValueKind == JsonValueKind.Object)
        {
            if (UpstreamFields.String(UpstreamFields.Field(message, "reasoning_content"), "message.reasoning_content") is { Length: > 0 } thought)
            {
                WriteText(writer, thought, thought: true);
                wroteAny = true;
            }

            if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                text = content.GetString();
                WriteText(writer, text!, thought: false);
                wroteAny = true;
            }

            if (UpstreamFields.String(UpstreamFields.Field(message, "refusal"), "message.refusal") is { Length: > 0 } refused)
            {
                WriteText(writer, refused, thought: false);
                text ??= refused;
                finishReason = "content_filter";
                wroteAny = true;
            }

            if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    if (UpstreamFields.RequireObject(call, "tool call").TryGetProperty("function", out var fn) && fn.ValueKind == JsonValueKind.Object)
                    {
                        WriteFunctionCall(
                            writer,
                            UpstreamFields.StringOrNone(UpstreamFields.Field(call, "id")),
                            UpstreamFields.RequireString(UpstreamFields.Field(fn, "name"), "tool call function.name"),
                            UpstreamFields.String(UpstreamFields.Field(fn, "arguments"), "tool call function.arguments"));
                        wroteAny = true;
                    }
                }
            }
        }

        if (!wroteAny)
        {
            WriteText(writer, string.Empty, thought: false);
        }

        EndModelParts(writer);
        if (MapFinishReason(finishReason) is { } reason)
        {
            writer.WriteString("finishReason"u8, reason);
        }

        writer.WriteNumber("index"u8, index);
        ChatLogprobsToGemini.Write(writer, choice);
        if (text is not null && message.ValueKind == JsonValueKind.Object)
        {
            WriteGrounding(writer, message, text);
        }

        writer.WriteEndObject();
        return text;
    }

    /// <summary>
    /// OpenAI <c>url_citation</c> annotations (search models cite on their own) as Gemini grounding: one chunk per
    /// distinct URL, one support per annotation, character offsets turned into the UTF-8 byte offsets Gemini uses.
    /// </summary>
    private static void WriteGrounding(Utf8JsonWriter writer, JsonElement message, string text)
    {
        if (!message.TryGetProperty("annotations", out var annotations) || annotations.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var sources = new List<(string Url, string? Title)>();
        var supports = new List<(int Start, int End, int Source)>();
        foreach (var annotation in annotations.EnumerateArray())
        {
            if (annotation.ValueKind != JsonValueKind.Object
                || !annotation.TryGetProperty("url_citation", out var citation) || citation.ValueKind != JsonValueKind.Object
                || UpstreamFields.StringOrNone(UpstreamFields.Field(citation, "url")) is not { Length: > 0 } url)
            {
                continue;
            }

            var source = sources.FindIndex(s => s.Url == url);
            if (source < 0)
            {
                source = sources.Count;
                sources.Add((url, citation.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null));
            }

            // Annotations are an extra: an offset that is not a whole number reads as absent.
            int Offset(string name) => Math.Clamp(UpstreamFields.Int32OrNone(UpstreamFields.Field(citation, name)) ?? 0, 0, text.Length);
            var (start, end) = (Offset("start_index"), Offset("end_index"));
            supports.Add((start, Math.Max(start, end), source));
        }

        if (sources.Count == 0)
        {
            return;
        }

        writer.WritePropertyName("groundingMetadata"u8);
        writer.WriteStartObject();
        writer.WritePropertyName("groundingChunks"u8);
        writer.WriteStartArray();
        foreach (var (url, title) in sources)
        {
            writer.WriteStartObject();
            writer.WritePropertyName("web"u8);
            writer.WriteStartObject();
            writer.WriteString("uri"u8, url);
            if (title is not null)
            {
                writer.WriteString("title"u8, title);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WritePropertyName("groundingSupports"u8);
        writer.WriteStartArray();
        foreach (var (start, end, source) in supports)
        {
            writer.WriteStartObject();
            writer.WritePropertyName("segment"u8);
            writer.WriteStartObject();
            writer.WriteNumber("startIndex"u8, Encoding.UTF8.GetByteCount(text.AsSpan(0, start)));
            writer.WriteNumber("endIndex"u8, Encoding.UTF8.GetByteCount(text.AsSpan(0, end)));
            writer.WriteString("text"u8, text.AsSpan(start, end - start));
            writer.WriteEndObject();
            writer.WritePropertyName("groundingChunkIndices"u8);
            writer.WriteStartArray();
            writer.WriteNumberValue(source);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Opens <c>"content": {"role": "model", "parts": [</c> inside a candidate object.</summary>
    internal static void StartModelParts(Utf8JsonWriter writer)
    {
        writer.WritePropertyName("content"u8);
        writer.WriteStartObject();
        writer.WriteString("role"u8, "model");
        writer.WritePropertyName("parts"u8);
        writer.WriteStartArray();
    }

    /// <summary>Closes what <see cref="StartModelParts"/> opened.</summary>
    internal static void EndModelParts(Utf8JsonWriter writer)
    {
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    internal static void WriteText(Utf8JsonWriter writer, string text, bool thought)
    {
        writer.WriteStartObject();
        writer.WriteString("text"u8, text);
        if (thought)
        {
            writer.WriteBoolean("thought"u8, true);
        }

        writer.WriteEndObject();
    }

    internal static void WriteFunctionCall(Utf8JsonWriter writer, string? id, string name, string? arguments)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("functionCall"u8);
        writer.WriteStartObject();
        if (id is not null)
        {
            writer.WriteString("id"u8, id);
        }

        writer.WriteString("name"u8, name);
        writer.WritePropertyName("args"u8);
        WriteArguments(writer, arguments);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>
    /// OpenAI arguments are a JSON string; Gemini wants an object. A model that produced invalid JSON gets its text
    /// kept under <c>"arguments"</c> rather than dropped, so the client can see what went wrong.
    /// </summary>
    private static void WriteArguments(Utf8JsonWriter writer, string? arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
            return;
        }

        try
        {
            using var parsed = JsonDocument.Parse(arguments);
            if (parsed.RootElement.ValueKind == JsonValueKind.Object)
            {
                parsed.RootElement.WriteTo(writer);
                return;
            }
        }
        catch (JsonException)
        {
            // fall through
        }

        writer.WriteStartObject();
        writer.WriteString("arguments"u8, arguments);
        writer.WriteEndObject();
    }

    internal static string? MapFinishReason(string? reason) => reason switch
    {
        null => null,
        "length" => "MAX_TOKENS",
        "content_filter" => "SAFETY",
        _ => "STOP", // stop, tool_calls, function_call
    };

    internal static void WriteUsageMetadata(Utf8JsonWriter writer, TokenUsage usage)
    {
        writer.WritePropertyName("usageMetadata"u8);
        writer.WriteStartObject();
        writer.WriteNumber("promptTokenCount"u8, usage.Input);
        writer.WriteNumber("candidatesTokenCount"u8, usage.Output - usage.Reasoning);
        writer.WriteNumber("totalTokenCount"u8, usage.Total);
        if (usage.Reasoning > 0)
        {
            writer.WriteNumber("thoughtsTokenCount"u8, usage.Reasoning);
        }

        if (usage.Cached > 0)
        {
            writer.WriteNumber("cachedContentTokenCount"u8, usage.Cached);
        }

        writer.WriteEndObject();
    }
}
