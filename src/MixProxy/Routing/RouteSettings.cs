using MixProxy.Translation.Protocols;

namespace MixProxy.Routing;

/// <summary>What a route asks of the gateway, parsed from its metadata once per config generation.</summary>
/// <param name="Endpoint">The client API operation it serves (its <c>MixProxy.Api</c>).</param>
/// <param name="OutputText">Add the provider page's <c>output.text</c> to whole responses.</param>
/// <param name="Cache">Cache successful responses on this route (clients may still opt out per request).</param>
/// <param name="CacheTtl">How long cached responses live; null for <see cref="DefaultCacheTtl"/>.</param>
internal sealed record RouteSettings(ClientEndpoint Endpoint, bool OutputText, bool Cache = false, TimeSpan? CacheTtl = null)
{
    public static readonly TimeSpan DefaultCacheTtl = TimeSpan.FromMinutes(5);
}
