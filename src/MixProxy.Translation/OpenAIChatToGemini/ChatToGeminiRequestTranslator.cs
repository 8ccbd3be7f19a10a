using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>
/// Translates an OpenAI Chat Completions request body into a Gemini <c>generateContent</c> body, one concern per
/// class: <see cref="ChatMessages"/>, <see cref="ChatMedia"/>, <see cref="ChatToolCalls"/>, <see cref="ChatTools"/>,
/// <see cref="ChatGenerationConfig"/>, <see cref="ChatThinking"/>. Knobs that would change the answer and cannot be
/// expressed upstream throw <see cref="TranslationException"/>; bookkeeping fields Gemini has no place for
/// (<c>user</c>, <c>metadata</c>, <c>store</c>…) are dropped and reported (<see cref="ChatRequestInventory"/>).
/// </summary>
public static class ChatToGeminiRequestTranslator
{
    // OpenAI's retired function-calling fields: refused, since ignoring them would drop the client's tools.
    private static readonly string[] RetiredFunctionFields = ["functions", "function_call"];

    /// <summary>Writes the Gemini body for <paramref name="request"/> into <paramref name="output"/>.</summary>
    /// <param name="request">The client's request body.</param>
    /// <param name="profile">The upstream model and what it can do.</param>
    /// <param name="output">Where the Gemini body goes.</param>
    /// <param name="knownSignatures">Signatures the host remembered for tool calls the client sent back without one.</param>
    /// <param name="replaySignatures">
    /// False when the upstream is not the endpoint that issued the conversation's signatures: none is sent, and each
    /// step that needs one gets <see cref="ThoughtSignatures.Bypass"/> (<see cref="ExchangeSettings.ReplaySignatures"/>).
    /// </param>
    /// <returns>What the response translator must know about the request it sent.</returns>
    /// <param name="dropped">
    /// Where fields Gemini has no place for and that do not change the question go (<see cref="DroppedFields"/>);
    /// none is dropped silently. Null: a fresh one per the model's <c>StrictTranslation</c>.
    /// </param>
    public static GeminiRequestFacts Translate(JsonElement request, UpstreamModelProfile profile, IBufferWriter<byte> output, ThoughtSignatureBag? knownSignatures = null, bool replaySignatures = true, DroppedFields? dropped = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        dropped ??= new DroppedFields(profile.StrictTranslation);
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(null, "The request body must be a JSON object.");
        }

        if (!request.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw new TranslationException("messages", "'messages' must be a non-empty array.");
        }

        foreach (var legacy in RetiredFunctionFields)
        {
            if (request.TryGetProperty(legacy, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                throw new TranslationException(legacy, $"'{legacy}' is OpenAI's retired form of function calling; send 'tools' and 'tool_choice' instead.");
            }
        }

        // Every field is read here, or dropped and reported, or refused (ChatRequestInventory). Each value is
        // type-checked where it is read: a field of the wrong JSON type is refused by name there, and anything else
        // thrown here is a bug of the gateway's, not the client's (the host answers 500 and logs it).
        ChatRequestInventory.Check(request, dropped);
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        writer.WriteStartObject();
        ChatMessages.WriteContents(writer, messages, profile, knownSignatures, replaySignatures);
        ChatMessages.WriteSystemInstruction(writer, messages);
        var (googleSearch, withFunctions) = ChatTools.WriteTools(writer, request, profile);
        ChatTools.WriteToolConfig(writer, request, googleSearch && withFunctions);
        ChatGenerationConfig.WriteGenerationConfig(writer, request, profile, dropped);
        WriteCachedContent(writer, request);
        writer.WriteEndObject();
        writer.Flush();

        // Gemini has no switch for one call per step and may call several functions at once: the response side keeps
        // only each step's first call, the one Gemini 3 signs, so the history the client sends back stays valid.
        var oneCallPerStep = ClientFields.OptionalBoolean(request.TryGetProperty("parallel_tool_calls", out var parallel) ? parallel : default, "parallel_tool_calls") == false;
        return new GeminiRequestFacts(googleSearch, oneCallPerStep);
    }

    /// <summary>
    /// Google's OpenAI layer names a context cached with Gemini's caching API in <c>extra_body.google.cached_content</c>
    /// (or top-level <c>google.cached_content</c>, where the OpenAI SDKs' extra_body lands): it becomes Gemini's
    /// <c>cachedContent</c>, so the cached context is part of the question, as the client meant.
    /// </summary>
    private static void WriteCachedContent(Utf8JsonWriter writer, JsonElement request)
    {
        var (google, param) = request.TryGetProperty("extra_body", out var extra) && extra.ValueKind == JsonValueKind.Object && extra.TryGetProperty("google", out var nested)
            ? (nested, "extra_body.google")
            : request.TryGetProperty("google", out var top) ? (top, "google") : (default, string.Empty);
        if (google.ValueKind != JsonValueKind.Object || !google.TryGetProperty("cached_content", out var cached) || cached.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (ClientFields.OptionalString(cached, param + ".cached_content") is not { Length: > 0 } name)
        {
            throw new TranslationException(param + ".cached_content", "'cached_content' must name a cached content (cachedContents/…).");
        }

        writer.WriteString("cachedContent"u8, name);
    }

    /// <summary>Ids of the assistant tool calls in a request that came back without a signature (to look up before translating).</summary>
    public static IReadOnlyList<string> UnsignedToolCallIds(JsonElement request) => ChatToolCalls.UnsignedToolCallIds(request);
}
