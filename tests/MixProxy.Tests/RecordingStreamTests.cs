using MixProxy.Caching;

namespace MixProxy.Tests;

/// <summary>The response cache's recorder passes bytes through and keeps a copy only of a body that really ended.</summary>
public sealed class RecordingStreamTests
{
    [Fact]
    public async Task RecordingStream_AtTheEnd_HandsOverEverythingThatPassed()
    {
        ReadOnlyMemory<byte>? copy = null;
        var data = new byte[] { 1, 2, 3, 4, 5 };
        using var original = new ReadOnlyMemoryContent(data);
        using var content = new StreamContent(new RecordingStream(original.ReadAsStream(TestContext.Current.CancellationToken), new MixProxy.Translation.Protocols.ExchangeOutcome(), body => copy = body.ToArray()));

        var stream = await content.ReadAsStreamAsync(TestContext.Current.CancellationToken);

        // YARP's copier first issues a zero-byte read to wait for data: that is not the end of the stream.
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty, TestContext.Current.CancellationToken));
        Assert.Null(copy);
        var buffer = new byte[65536];
        var passed = new List<byte>();
        int read;
        while ((read = await stream.ReadAsync(buffer.AsMemory(), TestContext.Current.CancellationToken)) > 0)
        {
            passed.AddRange(buffer[..read]);
        }

        Assert.Equal(data, passed);
        Assert.Equal(data, copy!.Value.ToArray());
    }
}
