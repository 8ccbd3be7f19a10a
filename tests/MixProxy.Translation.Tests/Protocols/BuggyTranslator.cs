using System.Buffers;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>
/// A real stream translator with a bug planted in it: on its <paramref name="failAtEvent"/>-th event it translates,
/// writes half an event more, then throws, as a translator bug would part-way through writing.
/// </summary>
internal sealed class BuggyTranslator(IStreamEventTranslator inner, int failAtEvent) : IStreamEventTranslator
{
    public const string HalfWritten = "{\"half-written";

    private int _events;

    public InvalidOperationException Failure { get; } = new("A planted translator bug.");

    public bool IsEnded => inner.IsEnded;

    public bool Faulted => inner.Faulted;

    public void TranslateEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        inner.TranslateEvent(data, output);
        if (++_events == failAtEvent)
        {
            output.Write("data: "u8);
            output.Write(System.Text.Encoding.UTF8.GetBytes(HalfWritten));
            throw Failure;
        }
    }

    public void Complete(IBufferWriter<byte> output) => inner.Complete(output);

    public void WriteFault(IBufferWriter<byte> output, StreamFault fault) => inner.WriteFault(output, fault);
}
