namespace MixProxy.Translation.Sse;

/// <summary>
/// The upstream's stream ended cleanly but without what ends a whole answer in its protocol (a finish reason): it was
/// cut, and passing it off as finished would hand the client part of an answer as if it were all of it. An
/// <see cref="IOException"/>, as a broken-off read is: before the client has a byte it goes on up as a failed read of
/// the upstream's body (an error status, or another attempt); after, it is recorded as the outcome's upstream fault
/// and the client gets its protocol's error event.
/// </summary>
public sealed class TruncatedStreamException() : IOException("The upstream's stream ended before its answer was finished (no finish reason).");
