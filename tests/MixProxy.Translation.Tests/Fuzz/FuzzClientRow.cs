using System.Text.Json.Nodes;
using CsCheck;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.Fuzz;

/// <summary>
/// How the fuzzer speaks one client API: the request head of each endpoint, the field names worth mutating, a
/// conversation written as its request, the facts read back from such a request, and the text of its answers.
/// </summary>
/// <param name="ApiName">The API's <c>ClientApi.Name</c>.</param>
/// <param name="Head">The request head an endpoint's requests come with (route values, query).</param>
/// <param name="Vocabulary">Field names of its requests, which mutations add and replace.</param>
/// <param name="Write">A conversation as its request body (streamed or not).</param>
/// <param name="ReadFacts">The conversation facts of a request body in its protocol (what another protocol's translation must keep).</param>
/// <param name="TextOfWhole">The answer's text in a whole response body of its protocol.</param>
/// <param name="TextOfStream">The answer's text in a stream of its protocol.</param>
/// <param name="ForEndpoint">
/// A written request reshaped for an endpoint that takes less than the generating ones (Anthropic's
/// <c>count_tokens</c> refuses <c>max_tokens</c> and <c>stream</c>); null where every endpoint takes the same body.
/// </param>
internal sealed record FuzzClientRow(
    string ApiName,
    Func<ClientEndpoint, ExchangeHarness.FakeHead> Head,
    IReadOnlyList<string> Vocabulary,
    Func<Conversation, bool, JsonObject> Write,
    Func<JsonNode, IReadOnlyList<string>> ReadFacts,
    Func<string, string> TextOfWhole,
    Func<string, string> TextOfStream,
    Func<ClientEndpoint, JsonObject, JsonObject>? ForEndpoint = null)
{
    /// <summary>A conversation as a request of <paramref name="endpoint"/>.</summary>
    public JsonObject WriteFor(ClientEndpoint endpoint, Conversation conversation, bool stream) =>
        ForEndpoint is null ? Write(conversation, stream) : ForEndpoint(endpoint, Write(conversation, stream));

    /// <summary>Valid requests of <paramref name="endpoint"/>, as bodies to mutate.</summary>
    public Gen<JsonObject> ValidFor(ClientEndpoint endpoint) => Gen.Select(Conversation.Any, Gen.Bool, (conversation, stream) => WriteFor(endpoint, conversation, stream));
}
