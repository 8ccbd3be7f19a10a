using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.Fuzz;

/// <summary>
/// How the fuzzer plays an upstream of one protocol: the model profile it serves, its answers carrying given texts
/// (whole and streamed), the field names of its answers worth mutating, and the facts of a request in its protocol.
/// </summary>
/// <param name="ProtocolName">The protocol's <c>WireProtocol.Name</c>.</param>
/// <param name="Profile">The upstream model the exchanges translate for.</param>
/// <param name="Whole">A whole successful answer carrying the texts (as one answer text, in order).</param>
/// <param name="Stream">The SSE body of a streamed answer carrying the texts, one event each, properly ended.</param>
/// <param name="Vocabulary">Field names of its answers, which mutations add and replace.</param>
/// <param name="ReadFacts">The conversation facts of a request body in its protocol, when a client API of the same protocol exists to read it back.</param>
internal sealed record FuzzUpstreamRow(
    string ProtocolName,
    UpstreamModelProfile Profile,
    Func<IReadOnlyList<string>, JsonObject> Whole,
    Func<IReadOnlyList<string>, string> Stream,
    IReadOnlyList<string> Vocabulary,
    Func<JsonNode, IReadOnlyList<string>> ReadFacts);
