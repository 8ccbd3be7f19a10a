using System.Text;
using System.Text.Json;

namespace MixProxy.Translation.Json;

/// <summary>
/// A path into a JSON text, one step per level from the root: into the value of a property with one of the given
/// names, or into every element of an array.
/// </summary>
internal sealed class JsonPathPattern
{
    private JsonPathPattern(Step[] steps) => Steps = steps;

    internal Step[] Steps { get; }

    /// <summary>
    /// A path spelled like <c>contents[].parts[].thoughtSignature|thought_signature</c>: property names separated by
    /// dots, <c>[]</c> after a name for each element of its array, <c>|</c> between names that are the same field.
    /// </summary>
    public static JsonPathPattern Parse(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        var steps = new List<Step>();
        foreach (var segment in pattern.Split('.'))
        {
            var bracket = segment.IndexOf('[', StringComparison.Ordinal);
            var names = bracket < 0 ? segment : segment[..bracket];
            var elements = bracket < 0 ? string.Empty : segment[bracket..];
            if (names.Length == 0 || names.Split('|').Any(n => n.Length == 0) || elements.Replace("[]", string.Empty, StringComparison.Ordinal).Length > 0)
            {
                throw new ArgumentException($"'{pattern}' is not a path of names, '|' and '[]'.", nameof(pattern));
            }

            steps.Add(new Step(names.Split('|').Select(Encoding.UTF8.GetBytes).ToArray()));
            steps.AddRange(Enumerable.Repeat(new Step(null), elements.Length / 2));
        }

        return new JsonPathPattern([.. steps]);
    }

    /// <summary>One level of the path: a property of one of <paramref name="names"/>, or (null) any array element.</summary>
    internal sealed class Step(byte[][]? names)
    {
        public bool IsElement => names is null;

        /// <summary>Whether the property name the reader is on is one of this step's (escaped names compared unescaped).</summary>
        public bool Matches(ref Utf8JsonReader reader)
        {
            if (names is null)
            {
                return false;
            }

            foreach (var name in names)
            {
                if (reader.ValueTextEquals(name))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
