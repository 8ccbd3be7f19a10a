using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace MixProxy.Translation.Json;

/// <summary>
/// Whether a JSON body's strings are text: a JSON parser accepts bytes that are not UTF-8 and escapes of lone UTF-16
/// surrogates (<c>"\ud800"</c>), and only fails when the string is read. Checked once per body, before any translator
/// reads a string, so that such a body is refused as bad input (or a bad upstream answer) rather than failing inside.
/// And how deep a body nests: the gateway reads <see cref="MaxDepth"/> levels of objects and arrays and refuses more.
/// </summary>
public static class JsonText
{
    /// <summary>
    /// The deepest nesting of objects and arrays a body may have (the outermost object is level 1): System.Text.Json's
    /// default reader depth. No request of the protocols served comes near it; a body past it is refused,
    /// never passed on, so no parser after the gateway does the work the gateway declined.
    /// </summary>
    public const int MaxDepth = 64;

    private static readonly SearchValues<byte> Backslash = SearchValues.Create("\\"u8);

    private static readonly SearchValues<byte> Structure = SearchValues.Create("\"[]{}"u8);

    /// <summary>
    /// True when <paramref name="json"/> nests objects and arrays deeper than <see cref="MaxDepth"/>. It need not be
    /// well-formed: this tells a body refused for its depth from one refused for its syntax, so that the client is told
    /// which.
    /// </summary>
    public static bool NestsTooDeep(ReadOnlySpan<byte> json)
    {
        var depth = 0;
        var rest = json;
        while (true)
        {
            var next = rest.IndexOfAny(Structure);
            if (next < 0)
            {
                return false;
            }

            var token = rest[next];
            rest = rest[(next + 1)..];
            if (token == (byte)'"')
            {
                // Skip the string: up to the first quote that no backslash escapes.
                while (true)
                {
                    var end = rest.IndexOfAny((byte)'"', (byte)'\\');
                    if (end < 0)
                    {
                        return false;
                    }

                    var escaped = rest[end] == (byte)'\\';
                    rest = rest[Math.Min(rest.Length, end + (escaped ? 2 : 1))..];
                    if (!escaped)
                    {
                        break;
                    }
                }
            }
            else if (token is (byte)'[' or (byte)'{')
            {
                if (++depth > MaxDepth)
                {
                    return true;
                }
            }
            else
            {
                depth--;
            }
        }
    }

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
