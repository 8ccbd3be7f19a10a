using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>What the Gemini → Chat Completions response and stream translators share: finish reasons, usage, ids, tool calls.</summary>
internal static class GeminiToChatWriting
{
    /// <summary>
    /// Maps a Gemini finish reason to OpenAI's closed set. Anything that is not a stop, a length cut or a
    /// safety/recitation block becomes <c>stop</c>: non-standard values break typed OpenAI clients.
    /// </summary>
    public static string MapFinishReason(string geminiReason, bool sawToolCall) => geminiReason switch
    {
        "MAX_TOKENS" => "length",
        "SAFETY" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" or "IMAGE_PROHIBITED_CONTENT"
            or "RECITATION" or "IMAGE_RECITATION" or "LANGUAGE" or "OTHER" or "IMAGE_OTHER" => "content_filter",
        _ when sawToolCall => "tool_calls",
        _ => "stop",
    };

    /// <summary>
    /// Gemini's own finish reason, next to the mapped one, under OpenRouter's name for it: the closed OpenAI set
    /// folds <c>MALFORMED_FUNCTION_CALL</c>, <c>RECITATION</c> and the like into <c>stop</c> or
    /// <c>content_filter</c>, and clients that care need to tell them apart. Typed clients ignore it.
    /// </summary>
    public static void WriteNativeFinishReason(Utf8JsonWriter writer, string? geminiReason)
    {
        if (!string.IsNullOrEmpty(geminiReason))
        {
            writer.WriteString("native_finish_reason"u8, geminiReason);
        }
    }

    /// <summary>The <c>promptFeedback.blockReason</c> of a response whose prompt was refused, else null.</summary>
    public static string? PromptBlockReason(JsonElement response) =>
        response.TryGetProperty("promptFeedback", out var feedback) && feedback.ValueKind == JsonValueKind.Object
        && feedback.TryGetProperty("blockReason", out var reason) && reason.ValueKind == JsonValueKind.String
            ? reason.GetString()
            : null;

    /// <summary>Gemini's per-modality breakdowns of <c>usageMetadata</c>, in the order they are carried.</summary>
    private static readonly (string Gemini, string Carried)[] ModalityDetails =
    [
        ("promptTokensDetails", "prompt_tokens_details"),
        ("cacheTokensDetails", "cache_tokens_details"),
        ("candidatesTokensDetails", "candidates_tokens_details"),
        ("toolUsePromptTokensDetails", "tool_use_prompt_tokens_details"),
    ];

    /// <summary>
    /// Chat's <c>usage</c>. When Gemini broke its counts down by modality (<paramref name="usageMetadata"/>), the audio
    /// tokens go in OpenAI's own <c>audio_tokens</c> fields and the whole breakdown, which Chat has no place for, in
    /// <c>usage.extra_content.google</c>, as the rest of Google's data rides beside the standard fields it extends.
    /// </summary>
    public static void WriteUsage(Utf8JsonWriter writer, TokenUsage usage, JsonElement usageMetadata = default)
    {
        var hasDetails = usageMetadata.ValueKind == JsonValueKind.Object
            && ModalityDetails.Any(d => UpstreamFields.Field(usageMetadata, d.Gemini).ValueKind == JsonValueKind.Array);
        writer.WriteStartObject();
        writer.WriteNumber("prompt_tokens"u8, usage.Input);
        writer.WriteNumber("completion_tokens"u8, usage.Output);
        writer.WriteNumber("total_tokens"u8, usage.Total);
        writer.WritePropertyName("prompt_tokens_details"u8);
        writer.WriteStartObject();
        writer.WriteNumber("cached_tokens"u8, usage.Cached);
        if (hasDetails)
        {
            // Prompt tokens count the tool-use prompt too (GeminiUsage), so its audio counts here as well.
            writer.WriteNumber("audio_tokens"u8, AudioTokens(usageMetadata, "promptTokensDetails") + AudioTokens(usageMetadata, "toolUsePromptTokensDetails"));
        }

        writer.WriteEndObject();
        writer.WritePropertyName("completion_tokens_details"u8);
        writer.WriteStartObject();
        writer.WriteNumber("reasoning_tokens"u8, usage.Reasoning);
        if (hasDetails)
        {
            writer.WriteNumber("audio_tokens"u8, AudioTokens(usageMetadata, "candidatesTokensDetails"));
        }

        writer.WriteEndObject();
        if (hasDetails)
        {
            writer.WritePropertyName("extra_content"u8);
            writer.WriteStartObject();
            writer.WritePropertyName("google"u8);
            writer.WriteStartObject();
            foreach (var (gemini, carried) in ModalityDetails)
            {
                if (UpstreamFields.Field(usageMetadata, gemini) is { ValueKind: JsonValueKind.Array } details)
                {
                    writer.WritePropertyName(carried);
                    GoogleAnswerExtras.WriteSnakeCased(writer, details);
                }
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>The <c>AUDIO</c> entries' token counts in one of <c>usageMetadata</c>'s per-modality lists.</summary>
    private static long AudioTokens(JsonElement usageMetadata, string list)
    {
        long total = 0;
        if (UpstreamFields.Field(usageMetadata, list) is { ValueKind: JsonValueKind.Array } entries)
        {
            foreach (var entry in entries.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object && UpstreamFields.StringOrNone(UpstreamFields.Field(entry, "modality")) == "AUDIO")
                {
                    total += UpstreamFields.Int64OrNone(UpstreamFields.Field(entry, "tokenCount")) ?? 0;
                }
            }
        }

        return total;
    }

    /// <summary>The chat completion id: Gemini's responseId when it sent one, so logs on both sides line up.</summary>
    public static string CompletionId(JsonElement response) =>
        UpstreamFields.StringOrNone(UpstreamFields.Field(response, "responseId")) is { Length: > 0 } responseId
            ? "chatcmpl-" + responseId
            : "chatcmpl-" + RandomToken(24);

    /// <summary>
    /// What every tool-call id the gateway mints starts with (for a call Gemini gave no id, or one too long): the
    /// request side knows such an id never reached Gemini and does not send it back (<see cref="IsMinted"/>).
    /// </summary>
    internal const string MintedIdPrefix = "call_mixproxy_";

    /// <summary>A short tool-call id (34 characters): OpenAI rejects ids over 40 when a conversation is replayed there.</summary>
    public static string NewToolCallId() => MintedIdPrefix + RandomToken(20);

    /// <summary>Whether the gateway minted this tool-call id (<see cref="NewToolCallId"/>), rather than Gemini or the client.</summary>
    public static bool IsMinted(string id) => id.StartsWith(MintedIdPrefix, StringComparison.Ordinal);

    private static string RandomToken(int length) =>
        RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", length);

    /// <summary>
    /// Checks what <see cref="WriteFunctionCall"/> needs of a <c>functionCall</c> before anything of its chunk is
    /// written: a name of the wrong type is bad upstream data (and a half-written event would break the client's stream).
    /// </summary>
    public static void CheckFunctionCall(JsonElement functionCall)
    {
        if (UpstreamFields.Field(functionCall, "name").ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.String))
        {
            throw UpstreamFields.WrongType(FunctionNameField);
        }
    }

    private const string FunctionNameField = "functionCall.name";

    private static string FunctionName(JsonElement functionCall) =>
        UpstreamFields.String(UpstreamFields.Field(functionCall, "name"), FunctionNameField) ?? string.Empty;

    public static void WriteFunctionCall(Utf8JsonWriter writer, JsonElement functionCall, JsonElement part, string id, int? index, ThoughtSignatureBag? signatures)
    {
        // Gemini 3 wants this signature back on the next turn; Google's own OpenAI layer puts it on the tool call.
        var signature = UpstreamFields.StringOrNone(UpstreamFields.Field(part, "thoughtSignature")) is { Length: > 0 } sig ? sig : null;
        if (signature is not null)
        {
            signatures?.Add(id, signature);
        }

        var arguments = functionCall.TryGetProperty("args", out var args) && args.ValueKind == JsonValueKind.Object ? CompactJson(args) : "{}";
        ChatToolCallWriter.Write(writer, id, FunctionName(functionCall), arguments, signature, index);
    }

    /// <summary>
    /// Arguments as compact JSON with non-ASCII kept as is: clients compare and log them, and
    /// <c>{"city":"北京"}</c> should not reach them as <c>\u5317\u4EAC</c> or with the upstream's line breaks.
    /// </summary>
    private static string CompactJson(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            value.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A part's <c>inlineData</c> (media the model produced: an image, audio), or false when it has none.</summary>
    public static bool TryReadInlineData(JsonElement part, out string? mimeType, out string data)
    {
        mimeType = null;
        data = string.Empty;
        if (UpstreamFields.Field(part, "inlineData") is not { ValueKind: JsonValueKind.Object } inline
            || UpstreamFields.StringOrNone(UpstreamFields.Field(inline, "data")) is not { } base64)
        {
            return false;
        }

        mimeType = UpstreamFields.StringOrNone(UpstreamFields.Field(inline, "mimeType"));
        data = base64;
        return true;
    }

    public static bool IsImage(string? mimeType) => mimeType?.StartsWith("image/", StringComparison.OrdinalIgnoreCase) == true;

    public static bool IsAudio(string? mimeType) => mimeType?.StartsWith("audio/", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>
    /// One image the model drew, as the <c>images</c> entry OpenRouter and LiteLLM give Gemini's image output on a
    /// Chat message (Chat Completions itself has no image output): <c>{index, type: "image_url", image_url: {url}}</c>
    /// with a data URI.
    /// </summary>
    public static void WriteImage(Utf8JsonWriter writer, int index, string? mimeType, string data)
    {
        writer.WriteStartObject();
        writer.WriteNumber("index"u8, index);
        writer.WriteString("type"u8, "image_url");
        writer.WritePropertyName("image_url"u8);
        writer.WriteStartObject();
        writer.WriteString("url"u8, "data:" + (mimeType ?? "image/png") + ";base64," + data);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>The id of an audio answer: Chat's <c>message.audio.id</c>, which the gateway keeps nothing under.</summary>
    public static string NewAudioId() => "audio_mixproxy_" + RandomToken(20);

    public static string ToolCallIdFor(JsonElement functionCall) =>
        UpstreamFields.StringOrNone(UpstreamFields.Field(functionCall, "id")) is { Length: > 0 and <= 40 } geminiId ? geminiId : NewToolCallId();
}
