using MixProxy.Auth;
using MixProxy.Routing;
using MixProxy.Translation.Protocols;

namespace MixProxy.Caching;

/// <summary>
/// Whether a request takes part in the response cache: opted in per route (metadata) or per request
/// (<c>x-mixproxy-cache: on</c>); <c>off</c> always wins, as does a key with caching off. Token counting is never cached.
/// </summary>
internal static class ResponseCachePolicy
{
    public const string Header = "x-mixproxy-cache";

    public static bool Wants(RouteSettings route, ClientKey key, IRequestHead head)
    {
        if (key.Cache == CacheSharing.Off || !route.Endpoint.Generates)
        {
            return false;
        }

        var asked = head.Header(Header);
        return !string.Equals(asked, "off", StringComparison.OrdinalIgnoreCase)
            && (route.Cache || string.Equals(asked, "on", StringComparison.OrdinalIgnoreCase));
    }
}
