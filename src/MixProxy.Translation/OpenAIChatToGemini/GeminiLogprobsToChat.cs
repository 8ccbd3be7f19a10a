using System.Text;
using System.Text.Json;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>
/// Gemini token log probabilities as OpenAI's. Gemini gives one <c>chosenCandidates</c> entry per decoding step and,
/// when asked for alternatives, a parallel <c>topCandidates</c> list; OpenAI gives one <c>content</c> entry per token
/// with its alternatives inside. OpenAI also wants each token's UTF-8 bytes, which Gemini does not send, so they are
/// computed from the token text (as UTF-8, not UTF-16 code units: non-ASCII tokens would otherwise come out wrong).
/// </summary>
internal static class GeminiLogprobsToChat
{
    /// <summary>Whether a Gemini candidate carries token log probabilities.</summary>
    public static bool Has(JsonElement candidate) =>
        candidate.ValueKind == JsonValueKind.Object && candidate.TryGetProperty("logprobsResult", out var result) && result.ValueKind == JsonValueKind.Object;

    /// <summary>Writes <c>"logprobs"</c> for an OpenAI choice: the candidate's <c>logprobsResult</c>, or null without one.</summary>
    public static void WriteOpenAI(Utf8JsonWriter writer, JsonElement candidate)
    {
        if (candidate.ValueKind != JsonValueKind.Object
            || !candidate.TryGetProperty("logprobsResult", out var result) || result.ValueKind != JsonValueKind.Object
            || !result.TryGetProperty("chosenCandidates", out var chosen) || chosen.ValueKind != JsonValueKind.Array)
        {
            writer.WriteNull("logprobs"u8);
            return;
        }

        var top = result.TryGetProperty("topCandidates", out var t) && t.ValueKind == JsonValueKind.Array ? t : default;
        var topCount = top.ValueKind == JsonValueKind.Array ? top.GetArrayLength() : 0;
        writer.WritePropertyName("logprobs"u8);
        writer.WriteStartObject();
        writer.WritePropertyName("content"u8);
        writer.WriteStartArray();
        var step = 0;
        foreach (var token in chosen.EnumerateArray())
        {
            writer.WriteStartObject();
            WriteToken(writer, token);
            writer.WritePropertyName("top_logprobs"u8);
            writer.WriteStartArray();
            if (step < topCount && top[step].ValueKind == JsonValueKind.Object
                && top[step].TryGetProperty("candidates", out var alternatives) && alternatives.ValueKind == JsonValueKind.Array)
            {
                foreach (var alternative in alternatives.EnumerateArray())
                {
                    writer.WriteStartObject();
                    WriteToken(writer, alternative);
                    writer.WriteEndObject();
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            step++;
        }

        writer.WriteEndArray();
        writer.WriteNull("refusal"u8);
        writer.WriteEndObject();
    }

    // Entries of the wrong shape are written as empty tokens rather than failing the response: logprobs are an
    // optional extra, and one odd entry must not cost the client its answer (or, mid-stream, break the event).
    private static void WriteToken(Utf8JsonWriter writer, JsonElement candidate)
    {
        var isObject = candidate.ValueKind == JsonValueKind.Object;
        var text = isObject && candidate.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : string.Empty;
        writer.WriteString("token"u8, text);

        // proto3 JSON leaves out zero values, so a missing logProbability is a certain token (log 1 = 0).
        // An extra: a value that is not a finite number reads as absent.
        writer.WriteNumber("logprob"u8, isObject && candidate.TryGetProperty("logProbability", out var p) && p.ValueKind == JsonValueKind.Number && p.TryGetDouble(out var value) && double.IsFinite(value) ? value : 0);
        writer.WritePropertyName("bytes"u8);
        writer.WriteStartArray();
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            writer.WriteNumberValue(b);
        }

        writer.WriteEndArray();
    }
}
