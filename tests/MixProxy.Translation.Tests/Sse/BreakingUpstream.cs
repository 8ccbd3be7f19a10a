using System.Text;

namespace MixProxy.Translation.Tests.Sse;

/// <summary>
/// An upstream body that sends <paramref name="sse"/> and then, instead of ending, breaks off with
/// <paramref name="failure"/>, as a read from a connection the upstream reset or dropped does.
/// </summary>
internal sealed class BreakingUpstream(string sse, Exception failure) : MemoryStream(Encoding.UTF8.GetBytes(sse))
{
    /// <summary>The read that breaks first waits for its cancellation: a connection torn down because the client left.</summary>
    public bool BreaksOnlyWhenCancelled { get; init; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await base.ReadAsync(buffer, cancellationToken);
        if (read > 0 || buffer.IsEmpty)
        {
            return read;
        }

        if (BreaksOnlyWhenCancelled)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
        }

        throw failure;
    }
}
