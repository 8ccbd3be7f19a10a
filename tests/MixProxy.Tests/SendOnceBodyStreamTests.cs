using System.Runtime.CompilerServices;
using MixProxy.Proxy;

namespace MixProxy.Tests;

/// <summary>
/// The body the gateway sends upstream is read once and then let go: the request object lives as long as the
/// response, and a streamed response can run for minutes.
/// </summary>
public sealed class SendOnceBodyStreamTests
{
    [Fact]
    public async Task SendOnceBodyStream_ReadInPieces_GivesEveryByteOnce()
    {
        var body = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        using var stream = new SendOnceBodyStream(body);

        var sent = new List<byte>();
        var buffer = new byte[333];
        int read;
        while ((read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0)
        {
            sent.AddRange(buffer[..read]);
        }

        Assert.Equal(body, sent);
        Assert.Equal(0, await stream.ReadAsync(buffer, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task SendOnceBodyStream_ReadToTheEnd_NoLongerHoldsTheBody()
    {
        var (stream, body) = Wrap(64 * 1024);
        var buffer = new byte[16 * 1024];
        while (await stream.ReadAsync(buffer, TestContext.Current.CancellationToken) > 0)
        {
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(body.IsAlive);
        GC.KeepAlive(stream);
    }

    // Separate and not inlined, so no local of the test method keeps the array alive.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Stream Stream, WeakReference Body) Wrap(int size)
    {
        var body = new byte[size];
        return (new SendOnceBodyStream(body), new WeakReference(body));
    }
}
