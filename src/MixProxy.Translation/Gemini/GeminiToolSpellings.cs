using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Gemini;

/// <summary>
/// The provider page's Gemini tool spelling, <c>{"function":{"name":"web_search"},"type":"function"}</c> (OpenAI's
/// shape inside a Gemini body), on an upstream that takes only Google's own (<see cref="UpstreamDialect.Strict"/>):
/// Google answers 400 <c>Unknown name "function" at 'tools[0]'</c>. The search tool becomes Google's
/// <c>{"googleSearch":{}}</c>, as the Chat Completions route already turns it; any other function in that spelling
/// is refused here, naming it. Only those tool entries change: every other byte goes up as the client wrote it.
/// </summary>
internal static class GeminiToolSpellings
{
    // As on the Chat Completions route (ChatTools): a function of these names without parameters is the built-in
    // search; one with parameters is the client's own function.
    private static readonly string[] SearchNames = ["web_search", "googleSearch", "google_search"];

    private static readonly byte[] GoogleSearch = """{"googleSearch":{}}"""u8.ToArray();

    /// <summary>
    /// <paramref name="json"/> (a body the client API parsed: well-formed) with each <c>tools[i]</c> in the provider
    /// page's spelling rewritten into Google's; null when there is none.
    /// </summary>
    public static ReadOnlyMemory<byte>? ToGoogle(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        ArrayBufferWriter<byte>? output = null;
        var copied = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isTools = reader.ValueTextEquals("tools"u8);
            reader.Read();
            if (!isTools || reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                continue;
            }

            var index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = checked((int)reader.TokenStartIndex);
                reader.Skip();
                var end = checked((int)reader.BytesConsumed);
                if (Rewrite(json[start..end], index++) is not { } replacement)
                {
                    continue;
                }

                output ??= new ArrayBufferWriter<byte>(json.Length);
                output.Write(json[copied..start]);
                output.Write(replacement);
                copied = end;
            }
        }

        if (output is null)
        {
            return null;
        }

        output.Write(json[copied..]);
        return output.WrittenMemory;
    }

    /// <summary>Google's spelling of one tool entry, or null to leave it as it is.</summary>
    private static byte[]? Rewrite(ReadOnlySpan<byte> tool, int index)
    {
        var reader = new Utf8JsonReader(tool);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("function", out var function))
        {
            return null;
        }

        var param = $"tools[{index}].function";
        var name = function.ValueKind == JsonValueKind.Object ? ClientFields.OptionalString(function, "name", param) : null;
        if (name is not null && SearchNames.Contains(name) && !function.TryGetProperty("parameters", out _))
        {
            return GoogleSearch;
        }

        // NOTE: a declaration could be rewritten too, but its parameters schema would then need the conversions the
        // Chat route makes per model (JSON Schema or Google's OpenAPI subset); a clear refusal is better than a guess.
        throw new TranslationException(param, $"'{param}': this model's upstream takes Google's own tool spelling only; declare function '{name}' in 'functionDeclarations' ({{\"functionDeclarations\":[{{\"name\":…,\"parametersJsonSchema\":…}}]}}). Only the parameterless 'web_search' function is turned into Google Search here.");
    }
}
