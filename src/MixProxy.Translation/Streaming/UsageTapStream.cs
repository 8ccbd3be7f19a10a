using MixProxy.Translation.Usage;

namespace MixProxy.Translation.Streaming;

/// <summary>
/// Passes a stream through byte for byte while noting the usage it reports; at its end the usage goes to the
/// sink. Used on untranslated streams, where the gateway must count tokens without touching the body.
/// </summary>
public sealed class UsageTapStream(Stream inner, ApiProtocol protocol, UsageSink sink) : Stream
{
    private readonly StreamUsageScanner _scanner = new(protocol);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (buffer.IsEmpty)
        {
            return read; // a zero-byte read only waits for data; it is not the end of the stream
        }

        if (read > 0)
        {
            _scanner.Append(buffer.Span[..read]);
        }
        else if (_scanner.Read() is { } usage)
        {
            ArgumentNullException.ThrowIfNull(sink);
            sink.Usage = usage;
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
