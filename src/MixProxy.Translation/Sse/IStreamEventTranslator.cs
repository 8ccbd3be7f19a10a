using System.Buffers;

namespace MixProxy.Translation.Sse;

/// <summary>
/// A per-response state machine that turns upstream SSE payloads into client SSE events. It handles the upstream's
/// faults that arrive as events itself (an error event, <see cref="Faulted"/>); its own bugs, and an upstream connection
/// that breaks off, it leaves to <see cref="TranslatingSseStream"/>, which calls <see cref="WriteFault"/>.
/// </summary>
public interface IStreamEventTranslator
{
    /// <summary>True once the client stream is closed (normally or by an error event); later input is ignored.</summary>
    bool IsEnded { get; }

    /// <summary>True when the stream ended with an error event (such a response must not be cached or counted as complete).</summary>
    bool Faulted { get; }

    /// <summary>
    /// Whether the upstream's events so far make a whole answer: what ends one in the upstream's protocol arrived (a
    /// finish reason for every choice). Asked when the upstream's stream ends: without it the stream was cut, and
    /// <see cref="TranslatingSseStream"/> ends the client's stream with <see cref="WriteFault"/>
    /// (<see cref="StreamFault.Upstream"/>), or fails the read while the client has nothing, instead of calling
    /// <see cref="Complete"/>, which would pass the part off as the whole. True by default, for translators of
    /// protocols that mark no end.
    /// </summary>
    bool AnswerComplete => true;

    /// <summary>Translates one upstream <c>data:</c> payload, appending zero or more client events.</summary>
    void TranslateEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output);

    /// <summary>Called once at upstream end of stream, when the answer is complete (<see cref="AnswerComplete"/>): closes anything still open.</summary>
    void Complete(IBufferWriter<byte> output);

    /// <summary>
    /// Ends the client's stream with the protocol's error event for <paramref name="fault"/>, and whatever closes the
    /// stream, and marks it ended and faulted. <see cref="StreamFault.Translator"/>: the translator itself failed (a
    /// gateway bug, which <see cref="TranslatingSseStream"/> catches and records); whatever the failed call had half
    /// written is already taken back. <see cref="StreamFault.Upstream"/>: the upstream's connection broke off between
    /// events, after the client had part of the answer; every call so far completed.
    /// </summary>
    void WriteFault(IBufferWriter<byte> output, StreamFault fault);
}
