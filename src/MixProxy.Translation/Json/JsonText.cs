using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace MixProxy.Translation.Json;

/// <summary>
/// Whether a JSON body's strings are text: a JSON parser accepts bytes that are not UTF-8 and escapes of lone UTF-16
/// surrogates (<c>"\ud800"</c>), and only fails when the string is read. Checked once per body, before any translator
/// reads a string, so that such a body is refused as bad input (or a bad upstream answer) rather than failing inside.
/// </summary>
public static class JsonText
{
    private static readonly SearchValues<byte> Backslash = SearchValues.Create("\\"u8);

    /// <summary>True when every string in <paramref name="json"/> (already known to be well-formed JSON) is valid Unicode.</summary>
    public static bool IsValid(ReadOnlySpan<byte> json)
    {
        // The usual body: valid UTF-8 throughout (one vectorised pass) and no escape that could be a lone surrogate.
        if (!Utf8.IsValid(json))
        {
            return false;
        }

        if (json.IndexOfAny(Backslash) < 0 || json.IndexOf("\\u"u8) < 0 && json.IndexOf("\\U"u8) < 0)
        {
            return true;
        }

        // Some string has a \u escape: unescape the escaped strings to find out.
        var reader = new Utf8JsonReader(json);
        char[]? rented = null;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || !reader.ValueIsEscaped)
                {
                    continue;
                }

                var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
                if (rented is null || rented.Length < length)
                {
                    if (rented is not null)
                    {
                        ArrayPool<char>.Shared.Return(rented);
                    }

                    rented = ArrayPool<char>.Shared.Rent(length);
                }

                try
                {
                    reader.CopyString(rented);
                }
                catch (InvalidOperationException)
                {
                    return false;
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }
}
