using System.Buffers;
using System.Text.Json;

namespace MixProxy.Translation.Json;

/// <summary>
/// Replaces the string values found at one path of a JSON text by splicing its bytes: every other byte (spacing,
/// escapes, number spellings, key order) stays as the client wrote it, and a text with nothing to replace costs one
/// read and no copy. Used where a passthrough must change a few values of a body it otherwise leaves alone.
/// </summary>
internal static class JsonStringSplice
{
    /// <summary>
    /// <paramref name="json"/> with every string value at <paramref name="path"/> replaced by
    /// <paramref name="replacement"/> (a whole JSON token, quotes included); null when there is none. Values of other
    /// types at the path are left alone. The text must be well-formed JSON (a body the client API already parsed).
    /// </summary>
    public static ReadOnlyMemory<byte>? ReplaceStrings(ReadOnlySpan<byte> json, JsonPathPattern path, ReadOnlySpan<byte> replacement)
    {
        ArgumentNullException.ThrowIfNull(path);
        var steps = path.Steps;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            return null;
        }

        ArrayBufferWriter<byte>? output = null;
        var copied = 0;

        // NOTE: only containers on the path are entered; everything else is skipped whole. So the container a token
        // sits in has matched as many steps as its depth, and a token at depth d is matched by step d - 1.
        while (reader.Read())
        {
            bool matches;
            switch (reader.TokenType)
            {
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    continue;
                case JsonTokenType.PropertyName:
                    matches = steps[reader.CurrentDepth - 1].Matches(ref reader);
                    reader.Read();
                    break;
                default:
                    // Not after a property name, so an element of an array.
                    matches = steps[reader.CurrentDepth - 1].IsElement;
                    break;
            }

            if (!matches)
            {
                reader.Skip();
            }
            else if (reader.CurrentDepth < steps.Length)
            {
                // A container on the path is entered by reading on; a value that ends the path early has nothing in it.
            }
            else if (reader.TokenType == JsonTokenType.String)
            {
                var start = checked((int)reader.TokenStartIndex);
                output ??= new ArrayBufferWriter<byte>(json.Length + replacement.Length);
                output.Write(json[copied..start]);
                output.Write(replacement);
                copied = checked((int)reader.BytesConsumed);
            }
            else
            {
                reader.Skip();
            }
        }

        if (output is null)
        {
            return null;
        }

        output.Write(json[copied..]);
        return output.WrittenMemory;
    }
}
