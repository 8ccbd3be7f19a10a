using MixProxy.Translation.Sse;

namespace MixProxy.Translation.Tests.Sse;

/// <summary>The output buffer open streams rent per event: it grows without losing bytes and is handed back whole.</summary>
public sealed class PooledBufferWriterTests
{
    [Fact]
    public void Writes_PastTheFirstBuffer_KeepEveryByteInOrder()
    {
        using var writer = new PooledBufferWriter();
        var expected = Enumerable.Range(0, 20_000).Select(i => (byte)(i * 7)).ToArray();

        for (var offset = 0; offset < expected.Length; offset += 999)
        {
            var piece = expected.AsSpan(offset, Math.Min(999, expected.Length - offset));
            piece.CopyTo(writer.GetSpan(piece.Length));
            writer.Advance(piece.Length);
        }

        Assert.Equal(expected, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void KeepLast_KeepsTheNewestBytesAtTheStart()
    {
        using var writer = new PooledBufferWriter();
        var bytes = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        bytes.CopyTo(writer.GetSpan(100));
        writer.Advance(100);

        writer.KeepLast(10);

        Assert.Equal(bytes[90..], writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Release_HandsTheBufferBack_AndTheNextWriteStartsEmpty()
    {
        using var writer = new PooledBufferWriter();
        writer.GetSpan(10)[0] = 42;
        writer.Advance(1);
        Assert.True(writer.HoldsBuffer);

        writer.Release();

        Assert.False(writer.HoldsBuffer);
        Assert.Equal(0, writer.WrittenCount);
        writer.GetSpan(1)[0] = 7;
        writer.Advance(1);
        Assert.Equal([7], writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Advance_PastWhatWasReserved_Throws()
    {
        using var writer = new PooledBufferWriter();
        var room = writer.GetSpan(16).Length;

        Assert.Throws<InvalidOperationException>(() => writer.Advance(room + 1));
    }
}
