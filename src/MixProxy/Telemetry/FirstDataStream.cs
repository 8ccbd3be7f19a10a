using MixProxy.Translation.Sse;

namespace MixProxy.Telemetry;

/// <summary>Passes a response body through and notes when its first bytes left (time to first token for streams).</summary>
internal sealed class FirstDataStream(Stream inner, Action onFirstData) : ObservingStream(inner)
{
    private bool _seen;

    protected override void OnData(ReadOnlySpan<byte> data)
    {
        if (!_seen)
        {
            _seen = true;
            onFirstData();
        }
    }
}
