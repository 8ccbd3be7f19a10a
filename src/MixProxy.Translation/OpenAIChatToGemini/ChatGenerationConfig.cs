using System.Globalization;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>Chat Completions → Gemini: sampling, length, stop, logprobs and response-format knobs become <c>generationConfig</c>; values Gemini cannot take are refused by name.</summary>
internal static class ChatGenerationConfig
{
    internal static readonly (string OpenAI, string Gemini)[] Penalties = [("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty")];

    internal static void WriteGenerationConfig(Utf8JsonWriter writer, JsonElement request, UpstreamModelProfile profile, DroppedFields dropped)
    {
        var config = new LazyObject(writer, "generationConfig");
        CheckOutputKinds(request, dropped);

        CopyNumber(request, "temperature", config, "temperature"u8, 0, 2);
        CopyNumber(request, "top_p", config, "topP"u8, 0, 1);
        CopyInteger(request, "top_k", config, "topK"u8, min: 1);

        // max_completion_tokens wins; 0 means "not set" for clients that always send the field.
        var maxTokens = ReadInteger(request, "max_completion_tokens", min: 0) ?? ReadInteger(request, "max_tokens", min: 0);
        if (maxTokens is > 0)
        {
            config.Start().WriteNumber("maxOutputTokens"u8, maxTokens.Value);
        }

        WriteStop(request, config);

        if (ReadInteger(request, "n", min: 1) is { } n and > 1)
        {
            config.Start().WriteNumber("candidateCount"u8, n);
        }

        if (ReadInteger(request, "seed", min: int.MinValue) is { } seed and not 0)
        {
            config.Start().WriteNumber("seed"u8, seed);
        }

        foreach (var (field, geminiField) in Penalties)
        {
            if (ReadNumber(request, field, -2, 2) is { } penalty and not 0)
            {
                if (!profile.SupportsPenalties)
                {
                    throw new TranslationException(field, $"Model '{profile.UpstreamModel}' does not accept {field}.");
                }

                config.Start().WriteNumber(geminiField, penalty);
            }
        }

        var top = ReadInteger(request, "top_logprobs", min: 0);
        if (top > UpstreamModelProfile.OpenAIMaxTopLogprobs)
        {
            throw new TranslationException("top_logprobs", $"'top_logprobs' must be between 0 and {UpstreamModelProfile.OpenAIMaxTopLogprobs}.");
        }

        if (request.TryGetProperty("logprobs", out var logprobs) && logprobs.ValueKind == JsonValueKind.True)
        {
            config.Start().WriteBoolean("responseLogprobs"u8, true);
            if (top is > 0)
            {
                // OpenAI allows 20; a model that returns fewer gets its own maximum rather than a 400.
                config.Start().WriteNumber("logprobs"u8, Math.Min(top.Value, profile.MaxTopLogprobs));
            }
        }
        else if (top is > 0)
        {
            throw new TranslationException("top_logprobs", "'logprobs' must be true when 'top_logprobs' is set.");
        }

        WriteResponseFormat(request, config, profile);
        ChatThinking.WriteThinking(request, profile, config);
        config.End();
    }

    /// <summary>
    /// What the answer should look like beyond its text. <c>verbosity</c> is a hint about length, which Gemini has no
    /// setting for and which does not change the question: dropped and reported. Audio output (<c>modalities</c> with
    /// <c>audio</c>, the <c>audio</c> settings) is an output format this route cannot deliver: Gemini's speech models
    /// answer in audio alone, and Chat's <c>message.audio</c> is not written from Gemini's parts; refused.
    /// </summary>
    internal static void CheckOutputKinds(JsonElement request, DroppedFields dropped)
    {
        if (request.TryGetProperty("verbosity", out var verbosity) && verbosity.ValueKind != JsonValueKind.Null)
        {
            if (ClientFields.OptionalString(verbosity, "verbosity") is not ("low" or "medium" or "high"))
            {
                throw new TranslationException("verbosity", "'verbosity' must be 'low', 'medium' or 'high'.");
            }

            dropped.Drop("verbosity", "Gemini has no setting for the verbosity of an answer.");
        }

        if (request.TryGetProperty("modalities", out var modalities) && modalities.ValueKind != JsonValueKind.Null)
        {
            if (modalities.ValueKind != JsonValueKind.Array || modalities.EnumerateArray().Any(m => m.ValueKind != JsonValueKind.String))
            {
                throw new TranslationException("modalities", "'modalities' must be an array of strings.");
            }

            if (modalities.EnumerateArray().Any(m => !m.ValueEquals("text"u8)))
            {
                throw new TranslationException("modalities", "Gemini models answer this route in text only; 'modalities' may hold only \"text\".");
            }
        }

        if (request.TryGetProperty("audio", out var audio) && audio.ValueKind != JsonValueKind.Null)
        {
            throw new TranslationException("audio", "Gemini models answer this route in text only: audio output cannot be asked for.");
        }
    }

    internal static void WriteStop(JsonElement request, LazyObject config)
    {
        if (!request.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (stop.ValueKind == JsonValueKind.String)
        {
            config.Start().WritePropertyName("stopSequences"u8);
            config.Writer.WriteStartArray();
            config.Writer.WriteStringValue(stop.GetString());
            config.Writer.WriteEndArray();
            return;
        }

        if (stop.ValueKind != JsonValueKind.Array || stop.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.String))
        {
            throw new TranslationException("stop", "'stop' must be a string or an array of strings.");
        }

        if (stop.GetArrayLength() > 5)
        {
            throw new TranslationException("stop", "Gemini accepts at most 5 stop sequences.");
        }

        if (stop.GetArrayLength() == 0)
        {
            return;
        }

        config.Start().WritePropertyName("stopSequences"u8);
        stop.WriteTo(config.Writer);
    }

    internal static void WriteResponseFormat(JsonElement request, LazyObject config, UpstreamModelProfile profile)
    {
        if (!request.TryGetProperty("response_format", out var format) || format.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        var type = format.ValueKind == JsonValueKind.Object ? ClientFields.OptionalString(format, "type", "response_format") : null;
        switch (type)
        {
            case "text":
                return;
            case "json_object":
                config.Start().WriteString("responseMimeType"u8, "application/json");
                return;
            case "json_schema":
                config.Start().WriteString("responseMimeType"u8, "application/json");
                if (format.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object
                    && js.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
                {
                    if (profile.SupportsJsonSchema)
                    {
                        config.Writer.WritePropertyName("responseJsonSchema"u8);
                        schema.WriteTo(config.Writer);
                    }
                    else
                    {
                        config.Writer.WritePropertyName("responseSchema"u8);
                        OpenApiSchemaConverter.Write(config.Writer, schema, "response_format.json_schema.schema");
                    }
                }

                return;
            default:
                throw new TranslationException("response_format.type", $"response_format type '{type}' is not one of text, json_object, json_schema.");
        }
    }

    internal static void CopyNumber(JsonElement request, string field, LazyObject config, ReadOnlySpan<byte> geminiField, double min, double max)
    {
        if (ReadNumber(request, field, min, max) is { } value)
        {
            config.Start().WriteNumber(geminiField, value);
        }
    }

    internal static void CopyInteger(JsonElement request, string field, LazyObject config, ReadOnlySpan<byte> geminiField, int min)
    {
        if (ReadInteger(request, field, min) is { } value)
        {
            config.Start().WriteNumber(geminiField, value);
        }
    }

    internal static double? ReadNumber(JsonElement request, string field, double min, double max)
    {
        if (!request.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        // TryGetDouble: a number beyond a double's range (1e400) is as out of range as any other.
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var d) || !double.IsFinite(d) || d < min || d > max)
        {
            throw new TranslationException(field, string.Create(CultureInfo.InvariantCulture, $"'{field}' must be a number from {min} to {max}."));
        }

        return d;
    }

    internal static int? ReadInteger(JsonElement request, string field, int min)
    {
        if (!request.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var i) || i < min)
        {
            throw new TranslationException(field, string.Create(CultureInfo.InvariantCulture, $"'{field}' must be an integer of at least {min}."));
        }

        return i;
    }
}
