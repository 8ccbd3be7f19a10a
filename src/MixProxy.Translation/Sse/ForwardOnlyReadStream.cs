namespace MixProxy.Translation.Sse;

/// <summary>The plumbing every read-only, forward-only response stream of the gateway shares; subclasses implement one async read.</summary>
public abstract class ForwardOnlyReadStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// Passes another stream through byte for byte and lets a subclass watch it: the data as it passes, and its end.
/// A zero-byte read (which YARP's copier issues to wait for data) is neither data nor the end.
/// </summary>
public abstract class ObservingStream(Stream inner) : ForwardOnlyReadStream
{
    private bool _ended;
    private bool _handedOut;
    private byte[]? _closing;
    private int _closingOffset;

    public sealed override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_closing is { } closing)
        {
            var rest = Math.Min(closing.Length - _closingOffset, buffer.Length);
            closing.AsSpan(_closingOffset, rest).CopyTo(buffer.Span);
            _closingOffset += rest;
            return rest;
        }

        int read;
        try
        {
            read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException && _handedOut && !cancellationToken.IsCancellationRequested && OnBreak(e) is { } ending)
        {
            // The upstream broke off after the client got part of the answer: it gets the protocol's error event
            // instead of a cut (nothing can be retried now), then the end.
            _closing = ending;
            _closingOffset = 0;
            return await ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        if (buffer.IsEmpty)
        {
            return read;
        }

        if (read > 0)
        {
            _handedOut = true;
            OnData(buffer.Span[..read]);
        }
        else if (!_ended)
        {
            _ended = true;
            OnEnd();
            if (OnEndClosing() is { } ending)
            {
                // The inner stream ended before what ends it in its protocol: the reader gets the error event, then the end.
                _closing = ending;
                _closingOffset = 0;
                return await ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
        }

        return read;
    }

    /// <summary>Bytes that just passed to the reader.</summary>
    protected abstract void OnData(ReadOnlySpan<byte> data);

    /// <summary>The inner stream ended normally (called once; not on errors or cancellation).</summary>
    protected virtual void OnEnd()
    {
    }

    /// <summary>Whether the reader got any byte of the inner stream yet.</summary>
    protected bool HandedOut => _handedOut;

    /// <summary>
    /// Called right after <see cref="OnEnd"/>: the bytes that end the reader's stream when the inner one ended too early
    /// in its protocol (an error event), or null when it ended as it should.
    /// </summary>
    protected virtual byte[]? OnEndClosing() => null;

    /// <summary>
    /// The inner stream broke off after the reader got part of it: the bytes that end the reader's stream in its
    /// protocol (an error event), or null to let the break go on up as it is.
    /// </summary>
    protected virtual byte[]? OnBreak(Exception fault) => null;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
