using MixProxy.Translation.Usage;

namespace MixProxy.Translation.Streaming;

/// <summary>
/// Passes a stream through byte for byte while noting the usage it reports; at its end the usage goes to the
/// sink. Used on untranslated streams, where the gateway must count tokens without touching the body.
/// </summary>
public sealed class UsageTapStream(Stream inner, ApiProtocol protocol, UsageSink sink) : ObservingStream(inner)
{
    private readonly StreamUsageScanner _scanner = new(protocol);

    /// <summary>Known at the end of the stream: it ended in an error, or without a finish reason.</summary>
    public bool Faulted { get; private set; }

    protected override void OnData(ReadOnlySpan<byte> data) => _scanner.Append(data);

    protected override void OnEnd()
    {
        Faulted = _scanner.LooksIncomplete();
        if (_scanner.Read() is { } usage)
        {
            sink.Usage = usage;
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
