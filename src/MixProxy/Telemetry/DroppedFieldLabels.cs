using System.Collections.Concurrent;

namespace MixProxy.Telemetry;

/// <summary>
/// The <c>mixproxy.field</c> label of <c>mixproxy_translation_dropped_total</c>, bounded. Dropped fields are named
/// as they came, and unlisted ones come from clients and upstreams (another provider's extras, a misspelling), so a
/// client could otherwise mint a new series per request. The first <see cref="Limit"/> distinct names a process
/// sees get their own label; later new ones count under <see cref="Other"/> (the response headers still name them).
/// One per <see cref="GatewayMetrics"/>.
/// </summary>
internal sealed class DroppedFieldLabels
{
    public const int Limit = 200;

    public const string Other = "(other)";

    private readonly ConcurrentDictionary<string, bool> _seen = new(StringComparer.Ordinal);

    public KeyValuePair<string, object?> Field(string shape)
    {
        // Two new names racing past the count may both get in: the bound is approximate by the number of threads.
        var label = _seen.ContainsKey(shape) || (_seen.Count < Limit && _seen.TryAdd(shape, true)) ? shape : Other;
        return new KeyValuePair<string, object?>("mixproxy.field", label);
    }
}
