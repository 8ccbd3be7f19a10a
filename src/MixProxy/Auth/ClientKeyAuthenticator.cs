using MixProxy.Configuration;

namespace MixProxy.Auth;

/// <summary>Finds the client key a request presents: <c>Authorization: Bearer</c>, <c>x-goog-api-key</c> or <c>?key=</c>.</summary>
internal static class ClientKeyAuthenticator
{
    public static string? ReadPresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7)
        {
            return authorization[7..].Trim();
        }

        if (request.Headers.TryGetValue("x-goog-api-key", out var googKey) && googKey.ToString() is { Length: > 0 } g)
        {
            return g;
        }

        return request.Query.TryGetValue("key", out var queryKey) && queryKey.ToString() is { Length: > 0 } q ? q : null;
    }

    /// <summary>The configured key for the presented secret, or null when there is none or it is unknown.</summary>
    public static ClientKey? Authenticate(HttpRequest request, GatewaySnapshot config)
    {
        var presented = ReadPresentedKey(request);
        return presented is null ? null : config.KeysByHash.GetValueOrDefault(ApiKeyHash.Compute(presented));
    }
}
