using System.Text.Json.Nodes;
using CsCheck;

namespace MixProxy.Translation.Tests.Fuzz;

/// <summary>Generators of JSON for the fuzz tests: texts that stress encoders, any value, and mutations of a body.</summary>
internal static class JsonGen
{
    /// <summary>Texts of every kind the wire carries: ASCII, accents, CJK, emoji (surrogate pairs), controls, JSON's own syntax.</summary>
    public static readonly Gen<string> Text = Gen.Frequency(
        (5, Gen.String[Gen.Char.AlphaNumeric, 1, 12]),
        (3, Gen.OneOf(Pick("Hello", "héllo wörld", "日本語のテキスト", "emoji 😀👍🏽", "quote \" backslash \\ slash /", "line\nbreak\ttab", "<script>alert(1)</script>", "{\"json\":\"inside\"}", "data: [DONE]\n\n", "\u2028\u2029", "zero\u0000width"))),
        (2, Gen.String[Gen.Char, 1, 20].Where(s => !HasLoneSurrogate(s))));

    /// <summary>Identifiers as function names are spelled.</summary>
    public static readonly Gen<string> Name = Gen.Select(Gen.Char['a', 'z'], Gen.String[Gen.Char.AlphaNumeric, 0, 10], (first, rest) => first + rest);

    /// <summary>Numbers at the edges: zero, negatives, fractions, huge, tiny.</summary>
    public static readonly Gen<JsonNode> Number = Gen.OneOf(
        Gen.Int.Select(i => (JsonNode)JsonValue.Create(i)),
        Gen.Double.Where(double.IsFinite).Select(d => (JsonNode)JsonValue.Create(d)),
        Pick<JsonNode>(0, -1, 1.5, 1e308, -1e-308, long.MaxValue, 4096, 2_147_483_648L));

    /// <summary>Any JSON value, at most three levels deep, whose object keys come from <paramref name="vocabulary"/> or anywhere.</summary>
    public static Gen<JsonNode?> Value(IReadOnlyList<string> vocabulary) => Gen.Recursive<JsonNode?>((depth, self) =>
    {
        var leaf = Gen.Frequency(
            (1, Gen.Const((JsonNode?)null)),
            (1, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))),
            (2, Number.Select(n => (JsonNode?)n.DeepClone())),
            (3, Text.Select(s => (JsonNode?)JsonValue.Create(s))));
        if (depth >= 3)
        {
            return leaf;
        }

        var key = Gen.Frequency((3, Gen.Int[0, vocabulary.Count - 1].Select(i => vocabulary[i])), (1, Name));
        return Gen.Frequency(
            (4, leaf),
            (1, self.Array[0, 3].Select(items => (JsonNode?)new JsonArray([.. items.Select(item => item?.DeepClone())]))),
            (1, Gen.Select(key, self).Array[0, 3].Select(pairs =>
            {
                var o = new JsonObject();
                foreach (var (k, v) in pairs)
                {
                    o[k] = v?.DeepClone();
                }

                return (JsonNode?)o;
            })));
    });

    /// <summary>
    /// A body from <paramref name="valid"/> with up to three of its values replaced by anything, removed, or joined by
    /// a field of <paramref name="vocabulary"/> holding anything.
    /// </summary>
    public static Gen<string> Mutated(Gen<JsonObject> valid, IReadOnlyList<string> vocabulary) =>
        Gen.Select(valid, Gen.Select(Gen.UInt, Gen.Int[0, 2], Value(vocabulary), Gen.Int[0, vocabulary.Count - 1]).Array[0, 3], (body, mutations) =>
        {
            foreach (var (where, kind, value, field) in mutations)
            {
                var nodes = Nodes(body).ToList();
                if (nodes.Count == 0)
                {
                    body[vocabulary[field]] = value?.DeepClone();
                    continue;
                }

                var (parent, key, index) = nodes[(int)(where % (uint)nodes.Count)];
                switch (kind)
                {
                    case 0 when parent is JsonObject o:
                        o[key!] = value?.DeepClone();
                        break;
                    case 0 when parent is JsonArray a:
                        a[index] = value?.DeepClone();
                        break;
                    case 1 when parent is JsonObject o:
                        o.Remove(key!);
                        break;
                    case 1 when parent is JsonArray a:
                        a.RemoveAt(index);
                        break;
                    default:
                        (parent as JsonObject ?? body)[vocabulary[field]] = value?.DeepClone();
                        break;
                }
            }

            return body.ToJsonString();
        });

    public static Gen<T> Pick<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    /// <summary>Every value slot of the tree: its parent and its key (objects) or index (arrays).</summary>
    private static IEnumerable<(JsonNode Parent, string? Key, int Index)> Nodes(JsonNode node)
    {
        if (node is JsonObject o)
        {
            foreach (var (k, v) in o.ToList())
            {
                yield return (o, k, -1);
                if (v is not null)
                {
                    foreach (var inner in Nodes(v))
                    {
                        yield return inner;
                    }
                }
            }
        }
        else if (node is JsonArray a)
        {
            for (var i = 0; i < a.Count; i++)
            {
                yield return (a, null, i);
                if (a[i] is { } v)
                {
                    foreach (var inner in Nodes(v))
                    {
                        yield return inner;
                    }
                }
            }
        }
    }

    private static bool HasLoneSurrogate(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return true;
            }
        }

        return false;
    }
}
