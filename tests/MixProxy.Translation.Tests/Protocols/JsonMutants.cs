using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>One hostile variant of a JSON document: the value at <see cref="Path"/> replaced (or removed).</summary>
/// <param name="Path">Where, as <c>$.messages[2].content</c>.</param>
/// <param name="Replacement">What went there, as a reader would write it.</param>
/// <param name="Json">The whole mutated document.</param>
internal sealed record Mutant(string Path, string Replacement, string Json);

/// <summary>
/// The hostile variants of a JSON document: at every path, the value replaced by values of every JSON type, edge
/// numbers, values deep or long enough to hurt, or removed. Deterministic and in document order, so a failure names a
/// mutant anyone can rebuild by hand. The document is written once, compact, with the span of every value noted, so a
/// mutant is one splice of that text (tens of thousands of them cost little).
/// </summary>
internal static class JsonMutants
{
    /// <summary>A removed value (at the root: an empty body).</summary>
    public const string Removed = "(removed)";

    private const int Depth = 40;

    /// <summary>
    /// What goes in place of a value, as JSON text. Every JSON type, with numbers that are fractional, negative, beyond
    /// a <see cref="long"/>, near or beyond a <see cref="double"/>'s limit; a string that is valid JSON but no valid
    /// text (an escaped lone surrogate); and cheap values deep or long enough to find
    /// recursion and size assumptions (deep enough to pass schema converters' limits, shallow enough to parse).
    /// </summary>
    public static IReadOnlyList<(string Name, string Json)> Replacements { get; } =
    [
        ("5", "5"),
        ("1.5", "1.5"),
        ("-1", "-1"),
        ("1e300", "1e300"),
        ("1e400", "1e400"),
        ("a lone surrogate escape", "\"\\ud800\""),
        ("12345678901234567890", "12345678901234567890"),
        ("\"x\"", "\"x\""),
        ("\"\"", "\"\""),
        ("true", "true"),
        ("null", "null"),
        ("{}", "{}"),
        ("[]", "[]"),
        ("[5,\"x\",null,true,{},[]]", "[5,\"x\",null,true,{},[]]"),
        ("a string of 4096 'x'", "\"" + new string('x', 4096) + "\""),
        ($"arrays nested {Depth} deep", new string('[', Depth) + new string(']', Depth)),
        ($"objects nested {Depth} deep", string.Concat(Enumerable.Repeat("{\"a\":", Depth)) + "{}" + new string('}', Depth)),
    ];

    /// <summary>Every mutant of <paramref name="document"/>: each path (the root included), each replacement, and its removal.</summary>
    public static IEnumerable<Mutant> Of(JsonNode document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var text = new StringBuilder();
        var values = new List<Value>();
        Write(document, [], text, values, member: default);
        var json = text.ToString();
        foreach (var value in values)
        {
            var path = Show(value.Path);
            foreach (var (name, replacement) in Replacements)
            {
                yield return new Mutant(path, name, string.Concat(json.AsSpan(0, value.Start), replacement, json.AsSpan(value.End)));
            }

            var (start, end) = value.Removal;
            yield return new Mutant(path, Removed, string.Concat(json.AsSpan(0, start), json.AsSpan(end)));
        }
    }

    public static string Show(IEnumerable<object> path) =>
        "$" + string.Concat(path.Select(segment => segment is int index ? $"[{index}]" : "." + segment));

    /// <summary>
    /// Where a value sits in the written text, and what goes with it when it is removed: its key, and the comma that
    /// separates it from a neighbour (the whole text at the root).
    /// </summary>
    private sealed record Value(object[] Path, int Start, int End, (int Start, int End) Removal);

    /// <summary>A value's place among its parent's members: where the member (key included) starts, whether it is first, how many there are.</summary>
    private readonly record struct Member(int Start, int Index, int Count);

    private static void Write(JsonNode? node, List<object> path, StringBuilder text, List<Value> values, Member member)
    {
        var start = text.Length;
        var at = values.Count;
        values.Add(null!); // in document order: parents before children
        switch (node)
        {
            case JsonObject o:
                text.Append('{');
                var i = 0;
                foreach (var (key, child) in o)
                {
                    if (i > 0)
                    {
                        text.Append(',');
                    }

                    var memberStart = text.Length;
                    text.Append(JsonSerializer.Serialize(key)).Append(':');
                    path.Add(key);
                    Write(child, path, text, values, new Member(memberStart, i++, o.Count));
                    path.RemoveAt(path.Count - 1);
                }

                text.Append('}');
                break;
            case JsonArray a:
                text.Append('[');
                for (var j = 0; j < a.Count; j++)
                {
                    if (j > 0)
                    {
                        text.Append(',');
                    }

                    path.Add(j);
                    Write(a[j], path, text, values, new Member(text.Length, j, a.Count));
                    path.RemoveAt(path.Count - 1);
                }

                text.Append(']');
                break;
            default:
                text.Append(node?.ToJsonString() ?? "null");
                break;
        }

        var end = text.Length;
        var removal = path.Count == 0 ? (0, end)
            : member.Index > 0 ? (member.Start - 1, end) // with the comma before it
            : member.Count > 1 ? (member.Start, end + 1) // the first of several: with the comma after it
            : (member.Start, end);
        values[at] = new Value([.. path], start, end, removal);
    }
}
