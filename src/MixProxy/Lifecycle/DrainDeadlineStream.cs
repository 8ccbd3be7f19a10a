using MixProxy.Translation.Sse;

namespace MixProxy.Lifecycle;

/// <summary>
/// An upstream stream body that ends, as if the upstream had broken off, when the gateway's drain time runs out. The
/// stream translators already turn an upstream that breaks off mid-answer into their protocol's error event, so a
/// client whose stream outlives the drain reads a proper end rather than a cut connection.
/// </summary>
internal sealed class DrainDeadlineStream : ForwardOnlyReadStream
{
    private readonly Stream _inner;
    private readonly CancellationToken _deadline;
    private readonly TimeSpan _drainTimeout;
    private CancellationTokenRegistration _registration;

    public DrainDeadlineStream(Stream inner, TimeSpan drainTimeout, CancellationToken deadline)
    {
        _inner = inner;
        _deadline = deadline;
        _drainTimeout = drainTimeout;

        // NOTE: one registration per stream, not a linked token per read: disposing the upstream body is what makes a
        // read that is waiting for the upstream return at once.
        _registration = deadline.UnsafeRegister(static state => ((Stream)state!).Dispose(), inner);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_deadline.IsCancellationRequested)
        {
            throw Expired(null);
        }

        int read;
        try
        {
            read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (_deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw Expired(e);
        }

        // A body disposed under a waiting read may also look like its end: that is no end the upstream sent.
        if (read == 0 && !buffer.IsEmpty && _deadline.IsCancellationRequested)
        {
            throw Expired(null);
        }

        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _registration.Dispose();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _registration.DisposeAsync().ConfigureAwait(false);
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private IOException Expired(Exception? cause) =>
        new($"The gateway is shutting down and its drain time ({_drainTimeout.TotalSeconds} s) ran out.", cause);
}
