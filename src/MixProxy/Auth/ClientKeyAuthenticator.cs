using MixProxy.Configuration;
using MixProxy.Translation.Protocols;

namespace MixProxy.Auth;

/// <summary>
/// Finds the client key a request presents, wherever any client protocol puts it (<see cref="ProtocolRegistry.ClientCredentialSources"/>):
/// a key is a key whichever protocol's place it arrives in.
/// </summary>
internal static class ClientKeyAuthenticator
{
    /// <summary>
    /// The client's key for this request, or the error it gets: none presented or an unknown one (401), or two
    /// different ones in two places (400: one request, one credential, as RFC 6750 §2 has it; which one would count
    /// is not for the gateway to guess).
    /// </summary>
    public static (ClientKey? Key, ClientError? Error) Authenticate(IRequestHead head, ProtocolRegistry protocols, GatewaySnapshot config)
    {
        string? presented = null;
        foreach (var source in protocols.ClientCredentialSources)
        {
            if (source.Read(head) is not { } key)
            {
                continue;
            }

            if (presented is null)
            {
                presented = key;
            }
            else if (!string.Equals(presented, key, StringComparison.Ordinal))
            {
                return (null, new ClientError(400, $"The request carries two different API keys; send one, as {protocols.DescribeClientCredentials()}."));
            }
        }

        if (Authenticate(presented, config) is { } known)
        {
            return (known, null);
        }

        var message = presented is null ? $"Missing API key: send it as {protocols.DescribeClientCredentials()}." : "Invalid API key.";
        return (null, new ClientError(401, message, Kind: ClientErrorKind.InvalidKey));
    }

    /// <summary>The configured key for a presented secret, or null when none was presented or it is unknown.</summary>
    public static ClientKey? Authenticate(string? presented, GatewaySnapshot config) =>
        presented is null ? null : config.KeysByHash.GetValueOrDefault(ApiKeyHash.Compute(presented));
}
