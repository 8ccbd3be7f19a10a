using MixProxy.Translation.Sse;

namespace MixProxy.Proxy;

/// <summary>
/// The upstream request body the gateway prepared, read once by YARP. It lets go of the bytes as soon as they are
/// all read: the request object lives as long as the response, and a stream's response can run for minutes.
/// (YARP never sends a request body twice, so nothing needs to read it again.)
/// </summary>
internal sealed class SendOnceBodyStream(ReadOnlyMemory<byte> body) : ForwardOnlyReadStream
{
    private ReadOnlyMemory<byte> _unsent = body;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var count = Math.Min(buffer.Length, _unsent.Length);
        _unsent.Span[..count].CopyTo(buffer.Span);
        // An empty slice would still reference the array; default does not.
        _unsent = count == _unsent.Length ? default : _unsent[count..];
        return ValueTask.FromResult(count);
    }
}
