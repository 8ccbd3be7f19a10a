using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Sse;

/// <summary>
/// Passes a stream through byte for byte while noting the usage it reports; at its end the usage and whether the
/// stream looks complete go to the outcome. A stream that ends before its protocol's finish (a dialect with a
/// <see cref="StreamUsageDialect.FinishKeys"/>) gets the break event too, as a cut. Used on untranslated streams, where the gateway must count tokens
/// without touching the body.
/// </summary>
/// <param name="inner">The upstream's body.</param>
/// <param name="dialect">How the protocol's streams report usage.</param>
/// <param name="outcome">Where the usage, and whether the stream was complete, go.</param>
/// <param name="breakEvent">
/// What ends the client's stream when the upstream breaks off after the client got part of it, or ends before its
/// finish (the protocol's error event, in the stream's framing); null lets the break through as a cut.
/// </param>
public sealed class UsageTapStream(Stream inner, StreamUsageDialect dialect, ExchangeOutcome outcome, byte[]? breakEvent = null) : ObservingStream(inner)
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

    protected override byte[]? OnEndClosing()
    {
        if (breakEvent is null || !_scanner.EndedBeforeFinish)
        {
            return null;
        }

        // The upstream ended cleanly before its answer did (no finish reason): a cut, which a client's SDK would read
        // as a whole answer. Before the client has a byte the read fails (502, or another attempt); after, it gets
        // the error event, unless the upstream closed its JSON array, after which nothing can be added.
        var cut = new TruncatedStreamException();
        outcome.Faulted = true;
        if (!HandedOut)
        {
            throw cut;
        }

        if (_scanner.ClosedItsArray)
        {
            return null;
        }

        outcome.UpstreamFault ??= cut;
        return breakEvent;
    }

    protected override byte[]? OnBreak(Exception fault)
    {
        if (breakEvent is null)
        {
            return null;
        }

        outcome.UpstreamFault ??= fault;
        outcome.Faulted = true;
        if (_scanner.Read() is { } usage)
        {
            outcome.Usage = usage;
        }

        return breakEvent;
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
