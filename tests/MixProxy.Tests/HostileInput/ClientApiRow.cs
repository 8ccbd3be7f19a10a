using System.Text.Json.Nodes;

namespace MixProxy.Tests.HostileInput;

/// <summary>
/// One client API in the hostile-input battery: its endpoints and how its error bodies look. Every API the registry
/// lists needs one (<see cref="ClientApiRows"/>); the battery fails, naming what to add, for an API without.
/// </summary>
/// <param name="ApiName">The API's <c>ClientApi.Name</c>.</param>
/// <param name="Endpoints">A row per endpoint the API has.</param>
/// <param name="AssertError">
/// Asserts an error body the gateway answered with the HTTP status given is in this API's shape; the third argument,
/// when not null, is the field the error must name (where the protocol has a place for it, else in the message).
/// </param>
internal sealed record ClientApiRow(string ApiName, IReadOnlyList<EndpointRow> Endpoints, Action<JsonNode?, int, string?> AssertError);
