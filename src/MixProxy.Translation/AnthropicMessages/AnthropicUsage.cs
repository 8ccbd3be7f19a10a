using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessages;

/// <summary>
/// Token usage and output caps in Anthropic bodies. Anthropic counts input apart from the cache: <c>input_tokens</c>
/// excludes what was read from or written to the prompt cache, which the gateway's usage (OpenAI's sense) includes.
/// </summary>
public static class AnthropicUsage
{
    /// <summary>The <c>usage</c> of a message; null when it has none.</summary>
    public static TokenUsage? Read(JsonElement message) =>
        message.ValueKind == JsonValueKind.Object && message.TryGetProperty(AnthropicMessagesVocabulary.Usage, out var usage) ? ReadUsageObject(usage) : null;

    /// <summary>A <c>usage</c> object itself; null when it is not an object or carries no count.</summary>
    public static TokenUsage? ReadUsageObject(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        static long? Get(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? UpstreamFields.Int64OrNone(v) : null;
        var input = Get(usage, "input_tokens");
        var output = Get(usage, "output_tokens");
        if (input is null && output is null)
        {
            return null;
        }

        var cacheRead = Get(usage, "cache_read_input_tokens") ?? 0;
        var cacheWrite = Get(usage, "cache_creation_input_tokens") ?? 0;
        var allInput = (input ?? 0) + cacheRead + cacheWrite;
        return new TokenUsage(allInput, output ?? 0, allInput + (output ?? 0), Reasoning: 0, Cached: cacheRead);
    }

    /// <summary>The output cap a request sets (<c>max_tokens</c>); null when it sets none.</summary>
    public static long? MaxOutputTokens(JsonElement request) =>
        request.ValueKind == JsonValueKind.Object && request.TryGetProperty(AnthropicMessagesVocabulary.MaxTokens, out var v)
            && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n > 0 ? n : null;

    /// <summary>
    /// Writes a usage object in Anthropic's names from the gateway's: cached input is read from the cache, and the
    /// rest is <c>input_tokens</c>; nothing is written to a cache on the gateway's upstreams.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, TokenUsage? usage)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var u = usage ?? TokenUsage.None;
        writer.WriteStartObject();
        writer.WriteNumber("input_tokens"u8, Math.Max(0, u.Input - u.Cached));
        writer.WriteNumber("cache_creation_input_tokens"u8, 0);
        writer.WriteNumber("cache_read_input_tokens"u8, u.Cached);
        writer.WriteNumber("output_tokens"u8, u.Output);
        writer.WriteEndObject();
    }
}
