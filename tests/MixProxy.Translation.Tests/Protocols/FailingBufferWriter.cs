using System.Buffers;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>
/// An output that fails once, on its <paramref name="failingCall"/>-th request for memory, then works again: a stand-in
/// for a translator bug (the failure is neither the client's nor the upstream's), after which the translator can still
/// tell the client what happened.
/// </summary>
internal sealed class FailingBufferWriter(int failingCall = 1) : IBufferWriter<byte>
{
    private readonly ArrayBufferWriter<byte> _written = new();
    private int _calls;

    /// <summary>What the writer threw.</summary>
    public InvalidOperationException Failure { get; } = new("The output failed (a stand-in for a translator bug).");

    public string Text => System.Text.Encoding.UTF8.GetString(_written.WrittenSpan);

    public void Advance(int count) => _written.Advance(count);

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        FailOnce();
        return _written.GetMemory(sizeHint);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        FailOnce();
        return _written.GetSpan(sizeHint);
    }

    private void FailOnce()
    {
        if (++_calls == failingCall)
        {
            throw Failure;
        }
    }
}
