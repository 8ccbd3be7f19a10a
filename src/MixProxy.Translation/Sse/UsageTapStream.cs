using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Sse;

/// <summary>
/// Passes a stream through byte for byte while noting the usage it reports; at its end the usage and whether the
/// stream looks complete go to the outcome. Used on untranslated streams, where the gateway must count tokens
/// without touching the body.
/// </summary>
public sealed class UsageTapStream(Stream inner, StreamUsageDialect dialect, ExchangeOutcome outcome) : ObservingStream(inner)
{
    private readonly StreamUsageScanner _scanner = new(dialect);

    protected override void OnData(ReadOnlySpan<byte> data) => _scanner.Append(data);

    protected override void OnEnd()
    {
        outcome.Faulted = _scanner.LooksIncomplete();
        if (_scanner.Read() is { } usage)
        {
            outcome.Usage = usage;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _scanner.Dispose();
        }

        base.Dispose(disposing);
    }
}
