namespace MixProxy.Tests.HostileInput;

/// <summary>
/// How the battery speaks to one client endpoint: its path for a model, its smallest good body, and the fields it must
/// refuse when they come with the wrong JSON type.
/// </summary>
/// <param name="EndpointId">The endpoint's id in the registry (a route's <c>MixProxy.Api</c>).</param>
/// <param name="Path">The path (and query) for a model; the model is already URL-escaped when it goes in the path.</param>
/// <param name="Body">The smallest good body asking for a model (ignored where the URL names it) with a user text.</param>
/// <param name="WrongTypedFields">Fields given a value of the wrong JSON type, each a 400 naming the field where the request is translated.</param>
/// <param name="Streaming">The endpoint's streamed request for a model (path and body); null when it never streams.</param>
/// <param name="Unserved">Upstream protocols the endpoint has an exchange with but whose operation it cannot reach (a 501).</param>
internal sealed record EndpointRow(
    string EndpointId,
    Func<string, string> Path,
    Func<string, string, string> Body,
    IReadOnlyList<WrongTypedField> WrongTypedFields,
    Func<string, (string Path, string Body)>? Streaming = null,
    IReadOnlyList<string>? Unserved = null);
