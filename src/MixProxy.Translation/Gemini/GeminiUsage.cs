using System.Globalization;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Gemini;

/// <summary>Token usage and output caps in Gemini bodies.</summary>
public static class GeminiUsage
{
    /// <summary>Reads <c>usageMetadata</c>; null when absent or when it carries no token counts (Vertex <c>trafficType</c>-only).</summary>
    public static TokenUsage? Read(JsonElement response) =>
        response.ValueKind == JsonValueKind.Object && response.TryGetProperty(GeminiVocabulary.UsageMetadata, out var usage) ? ReadUsageObject(usage) : null;

    /// <summary>A <c>usageMetadata</c> object itself; null when it is not an object or has none of the token counts.</summary>
    public static TokenUsage? ReadUsageObject(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        // A count that is not a whole number reads as absent: usage is an extra the answer does not depend on.
        long Get(string name) => usage.TryGetProperty(name, out var v) ? UpstreamFields.Int64OrNone(v) ?? 0 : 0;

        if (!usage.TryGetProperty("promptTokenCount", out _) && !usage.TryGetProperty("candidatesTokenCount", out _) && !usage.TryGetProperty("totalTokenCount", out _))
        {
            return null;
        }

        var input = Get("promptTokenCount") + Get("toolUsePromptTokenCount");
        var reasoning = Get("thoughtsTokenCount");
        var output = Get("candidatesTokenCount") + reasoning;
        return new TokenUsage(input, output, input + output, reasoning, Get("cachedContentTokenCount"));
    }

    /// <summary>The request's <c>generationConfig.maxOutputTokens</c> (either spelling); null when it sets none.</summary>
    public static long? MaxOutputTokens(JsonElement request)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        // As the translators read it: proto3 JSON writes an integer as a number or as a string ("100").
        static long? Positive(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var v)
            && (v.ValueKind == JsonValueKind.Number ? v.TryGetInt64(out var n)
                : v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n))
            && n > 0 ? n : null;

        var config = request.TryGetProperty(GeminiVocabulary.GenerationConfig, out var camel) ? camel
            : request.TryGetProperty("generation_config", out var snake) ? snake : default;
        return config.ValueKind == JsonValueKind.Object ? Positive(config, GeminiVocabulary.MaxOutputTokens) ?? Positive(config, "max_output_tokens") : null;
    }
}
