using System.Globalization;

namespace MixProxy.Benchmarks.Streams;

/// <summary><c>--name value</c> pairs after the stream benchmark's sub-command; a missing required one fails loudly.</summary>
internal sealed class StreamBenchArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public StreamBenchArguments(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= list.Count)
            {
                throw new ArgumentException($"Expected --name value pairs, got '{list[i]}'.");
            }

            _values[list[i][2..]] = list[++i];
        }
    }

    public string String(string name, string? fallback = null) =>
        _values.TryGetValue(name, out var value) ? value : fallback ?? throw new ArgumentException($"--{name} is required.");

    public Uri Uri(string name) => new(String(name));

    public int Int(string name, int fallback) =>
        _values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
}
