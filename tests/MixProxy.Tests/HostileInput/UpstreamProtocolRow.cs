namespace MixProxy.Tests.HostileInput;

/// <summary>
/// How the battery plays a misbehaving upstream of one protocol: the model it asks for there, a stream's events, and
/// an error body that quotes a text (the gateway's own key, when the upstream echoes it).
/// </summary>
/// <param name="ProtocolName">The upstream protocol's <c>WireProtocol.Name</c>, as a model's <c>Protocols</c> names it.</param>
/// <param name="UpstreamModel">The model the battery's model of this protocol maps to (one the simulator serves plainly).</param>
/// <param name="TextEvents">Stream events carrying the texts given, one each, with no ending.</param>
/// <param name="Ending">The events that end a stream properly (finish reason, usage, terminator).</param>
/// <param name="CutEvent">An event whose JSON is cut off mid-object.</param>
/// <param name="ErrorBody">A 400 error body in the protocol's shape whose message says the text given.</param>
internal sealed record UpstreamProtocolRow(
    string ProtocolName,
    string UpstreamModel,
    Func<IReadOnlyList<string>, IReadOnlyList<string>> TextEvents,
    IReadOnlyList<string> Ending,
    string CutEvent,
    Func<string, string> ErrorBody);
