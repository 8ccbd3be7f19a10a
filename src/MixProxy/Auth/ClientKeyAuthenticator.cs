using MixProxy.Configuration;
using MixProxy.Translation.Protocols;

namespace MixProxy.Auth;

/// <summary>
/// Finds the client key a request presents, wherever any client protocol puts it (<see cref="ProtocolRegistry.ClientCredentialSources"/>):
/// a key is a key whichever protocol's place it arrives in.
/// </summary>
internal static class ClientKeyAuthenticator
{
    public static string? ReadPresentedKey(IRequestHead head, ProtocolRegistry protocols)
    {
        foreach (var source in protocols.ClientCredentialSources)
        {
            if (source.Read(head) is { } key)
            {
                return key;
            }
        }

        return null;
    }

    /// <summary>The configured key for a presented secret, or null when none was presented or it is unknown.</summary>
    public static ClientKey? Authenticate(string? presented, GatewaySnapshot config) =>
        presented is null ? null : config.KeysByHash.GetValueOrDefault(ApiKeyHash.Compute(presented));
}
