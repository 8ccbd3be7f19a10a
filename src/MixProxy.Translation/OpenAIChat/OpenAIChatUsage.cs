using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>Token usage and output caps in Chat Completions bodies.</summary>
public static class OpenAIChatUsage
{
    /// <summary>The <c>usage</c> of a completion or of a stream's final chunk; null when it has none.</summary>
    public static TokenUsage? Read(JsonElement response) =>
        response.ValueKind == JsonValueKind.Object && response.TryGetProperty(OpenAIChatVocabulary.Usage, out var usage) ? ReadUsageObject(usage) : null;

    /// <summary>A <c>usage</c> object itself; null when it is not an object.</summary>
    public static TokenUsage? ReadUsageObject(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        // A count that is not a whole number reads as absent: usage is an extra the answer does not depend on.
        static long Get(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? UpstreamFields.Int64OrNone(v) ?? 0 : 0;
        var input = Get(usage, "prompt_tokens");
        var output = Get(usage, "completion_tokens");
        var total = Get(usage, "total_tokens");
        var reasoning = usage.TryGetProperty("completion_tokens_details", out var cd) ? Get(cd, "reasoning_tokens") : 0;
        var cached = usage.TryGetProperty("prompt_tokens_details", out var pd) ? Get(pd, "cached_tokens") : 0;
        return new TokenUsage(input, output, total > 0 ? total : input + output, reasoning, cached);
    }

    /// <summary>The output cap a request asks for (<c>max_completion_tokens</c>, else <c>max_tokens</c>); null when it sets none.</summary>
    public static long? MaxOutputTokens(JsonElement request)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        static long? Positive(JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n > 0 ? n : null;

        return Positive(request, OpenAIChatVocabulary.MaxCompletionTokens) ?? Positive(request, OpenAIChatVocabulary.MaxTokens);
    }
}
