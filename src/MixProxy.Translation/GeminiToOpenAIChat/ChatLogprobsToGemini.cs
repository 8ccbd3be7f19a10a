using System.Text.Json;

namespace MixProxy.Translation.GeminiToOpenAIChat;

/// <summary>
/// OpenAI token log probabilities as Gemini's: each <c>content</c> entry becomes a <c>chosenCandidates</c> entry and
/// its <c>top_logprobs</c> a <c>topCandidates</c> list, with the sum and average Gemini reports beside them.
/// </summary>
internal static class ChatLogprobsToGemini
{
    /// <summary>
    /// Writes <c>"logprobsResult"</c> and <c>"avgLogprobs"</c> into a Gemini candidate from an OpenAI choice's
    /// <c>logprobs</c>; writes nothing when the choice has none.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, JsonElement choice)
    {
        if (choice.ValueKind != JsonValueKind.Object
            || !choice.TryGetProperty("logprobs", out var logprobs) || logprobs.ValueKind != JsonValueKind.Object
            || !logprobs.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array || content.GetArrayLength() == 0)
        {
            return;
        }

        var sum = 0.0;
        writer.WritePropertyName("logprobsResult"u8);
        writer.WriteStartObject();
        writer.WritePropertyName("topCandidates"u8);
        writer.WriteStartArray();
        foreach (var token in content.EnumerateArray())
        {
            writer.WriteStartObject();
            writer.WritePropertyName("candidates"u8);
            writer.WriteStartArray();
            if (token.ValueKind == JsonValueKind.Object && token.TryGetProperty("top_logprobs", out var alternatives) && alternatives.ValueKind == JsonValueKind.Array)
            {
                foreach (var alternative in alternatives.EnumerateArray())
                {
                    WriteGeminiCandidate(writer, alternative);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WritePropertyName("chosenCandidates"u8);
        writer.WriteStartArray();
        foreach (var token in content.EnumerateArray())
        {
            sum += WriteGeminiCandidate(writer, token);
        }

        // Finite terms can still add up past a double's range (an upstream sending 1e308s): then there is no sum to give.
        sum = double.IsFinite(sum) ? sum : 0;
        writer.WriteEndArray();
        writer.WriteNumber("logProbabilitySum"u8, sum);
        writer.WriteEndObject();
        writer.WriteNumber("avgLogprobs"u8, sum / content.GetArrayLength());
    }

    private static double WriteGeminiCandidate(Utf8JsonWriter writer, JsonElement token)
    {
        var isObject = token.ValueKind == JsonValueKind.Object;
        // An extra: a value that is not a finite number reads as absent.
        var logprob = isObject && token.TryGetProperty("logprob", out var p) && p.ValueKind == JsonValueKind.Number && p.TryGetDouble(out var value) && double.IsFinite(value) ? value : 0;
        writer.WriteStartObject();
        writer.WriteString("token"u8, isObject && token.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : string.Empty);
        writer.WriteNumber("logProbability"u8, logprob);
        writer.WriteEndObject();
        return logprob;
    }
}
