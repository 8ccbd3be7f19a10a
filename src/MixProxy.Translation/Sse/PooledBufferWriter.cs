using System.Buffers;

namespace MixProxy.Translation.Sse;

/// <summary>
/// A growable output buffer rented from the shared array pool and handed back by <see cref="Release"/>. A stream
/// that waits seconds between upstream events calls it once each event is drained, so a thousand open streams
/// hold no output buffer while they wait (an <see cref="ArrayBufferWriter{T}"/> would keep 4 KB per stream).
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private const int MinimumSize = 4096;
    private byte[]? _buffer;
    private int _written;

    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > (_buffer?.Length ?? 0) - _written)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>True while a rented buffer is held (between the first write and <see cref="Release"/>).</summary>
    public bool HoldsBuffer => _buffer is not null;

    /// <summary>Keeps only the last <paramref name="count"/> bytes written, moved to the start of the buffer.</summary>
    public void KeepLast(int count)
    {
        if (_buffer is null || count >= _written)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _buffer.AsSpan(_written - count, count).CopyTo(_buffer);
        _written = count;
    }

    /// <summary>Takes back everything written after the first <paramref name="length"/> bytes.</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _written = Math.Min(_written, length);
    }

    /// <summary>Forgets what was written and returns the buffer to the pool; the next write rents one again.</summary>
    public void Release()
    {
        var buffer = _buffer;
        _buffer = null;
        _written = 0;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => Release();

    private void Reserve(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        var needed = (long)_written + Math.Max(sizeHint, 1);
        if (_buffer is not null && needed <= _buffer.Length)
        {
            return;
        }

        var size = Math.Max(needed, Math.Max(MinimumSize, 2L * (_buffer?.Length ?? 0)));
        var next = ArrayPool<byte>.Shared.Rent((int)Math.Min(size, Array.MaxLength));
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _written).CopyTo(next);
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = next;
    }
}
