using System.Text.Json;
using MixProxy.Translation.Gemini;

namespace MixProxy.Translation.Usage;

/// <summary>Reads token usage and output caps from either protocol's bodies, for accounting on untranslated routes.</summary>
public static class UsageReader
{
    /// <summary>Usage from a whole response body of <paramref name="protocol"/>; null when it has none.</summary>
    public static TokenUsage? FromResponse(ReadOnlySpan<byte> body, ApiProtocol protocol)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            return FromResponse(document.RootElement, protocol);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static TokenUsage? FromResponse(JsonElement root, ApiProtocol protocol)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return protocol == ApiProtocol.Gemini ? GeminiVocabulary.ReadUsage(root) : FromOpenAIUsage(root);
    }

    /// <summary>
    /// A usage object itself (Gemini's <c>usageMetadata</c>, OpenAI's <c>usage</c>), as found inside a stream chunk;
    /// null when it has no token counts.
    /// </summary>
    internal static TokenUsage? FromUsageObject(JsonElement usage, ApiProtocol protocol) =>
        protocol == ApiProtocol.Gemini ? GeminiVocabulary.ReadUsageObject(usage) : FromOpenAIUsageObject(usage);

    /// <summary>OpenAI's <c>usage</c> object (on a completion or on the final stream chunk).</summary>
    private static TokenUsage? FromOpenAIUsage(JsonElement root) =>
        root.TryGetProperty("usage", out var usage) ? FromOpenAIUsageObject(usage) : null;

    private static TokenUsage? FromOpenAIUsageObject(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        long Get(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        var input = Get(usage, "prompt_tokens");
        var output = Get(usage, "completion_tokens");
        var total = Get(usage, "total_tokens");
        var reasoning = usage.TryGetProperty("completion_tokens_details", out var cd) ? Get(cd, "reasoning_tokens") : 0;
        var cached = usage.TryGetProperty("prompt_tokens_details", out var pd) ? Get(pd, "cached_tokens") : 0;
        return new TokenUsage(input, output, total > 0 ? total : input + output, reasoning, cached);
    }

    /// <summary>
    /// The output cap a request asks for (<c>max_completion_tokens</c>/<c>max_tokens</c>, or Gemini's
    /// <c>generationConfig.maxOutputTokens</c>); null when it sets none. Used to reserve tokens before forwarding.
    /// </summary>
    public static long? MaxOutputTokens(JsonElement request, ApiProtocol protocol)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        static long? Positive(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n > 0 ? n : null;

        if (protocol == ApiProtocol.OpenAIChat)
        {
            return Positive(request, "max_completion_tokens") ?? Positive(request, "max_tokens");
        }

        var config = request.TryGetProperty("generationConfig", out var camel) ? camel
            : request.TryGetProperty("generation_config", out var snake) ? snake : default;
        return config.ValueKind == JsonValueKind.Object ? Positive(config, "maxOutputTokens") ?? Positive(config, "max_output_tokens") : null;
    }
}
