using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIResponses;

/// <summary>Token usage and output caps in Responses API bodies.</summary>
public static class OpenAIResponsesUsage
{
    /// <summary>The <c>usage</c> of a response object; null when it has none.</summary>
    public static TokenUsage? Read(JsonElement response) =>
        response.ValueKind == JsonValueKind.Object && response.TryGetProperty(OpenAIResponsesVocabulary.Usage, out var usage) ? ReadUsageObject(usage) : null;

    /// <summary>A <c>usage</c> object itself (<c>input_tokens</c>, <c>output_tokens</c>…); null when it is not an object.</summary>
    public static TokenUsage? ReadUsageObject(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        // A count that is not a whole number reads as absent: usage is an extra the answer does not depend on.
        static long Get(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? UpstreamFields.Int64OrNone(v) ?? 0 : 0;
        var input = Get(usage, "input_tokens");
        var output = Get(usage, "output_tokens");
        var total = Get(usage, "total_tokens");
        var reasoning = usage.TryGetProperty("output_tokens_details", out var od) ? Get(od, "reasoning_tokens") : 0;
        var cached = usage.TryGetProperty("input_tokens_details", out var id) ? Get(id, "cached_tokens") : 0;
        return new TokenUsage(input, output, total > 0 ? total : input + output, reasoning, cached);
    }

    /// <summary>The output cap a request asks for (<c>max_output_tokens</c>); null when it sets none.</summary>
    public static long? MaxOutputTokens(JsonElement request) =>
        request.ValueKind == JsonValueKind.Object && request.TryGetProperty(OpenAIResponsesVocabulary.MaxOutputTokens, out var v)
            && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n > 0 ? n : null;
}
