using System.Text.Json;

namespace MixProxy.Translation.Chat;

/// <summary>
/// The few facts the gateway needs from a Chat Completions request before it routes it:
/// read once from the parsed body and carried along, never re-parsed.
/// </summary>
public sealed record ChatRequestFacts(string Model, bool Stream, bool IncludeUsage)
{
    /// <summary>Reads model and stream flags; throws <see cref="TranslationException"/> on a malformed request.</summary>
    public static ChatRequestFacts Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(null, "The request body must be a JSON object.");
        }

        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } name)
        {
            throw new TranslationException("model", "'model' is required and must be a non-empty string.");
        }

        var stream = false;
        if (root.TryGetProperty("stream", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new TranslationException("stream", "'stream' must be a boolean.");
            }

            stream = s.GetBoolean();
        }

        var includeUsage = root.TryGetProperty("stream_options", out var options)
            && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var iu)
            && iu.ValueKind == JsonValueKind.True;

        return new ChatRequestFacts(name, stream, includeUsage);
    }
}
