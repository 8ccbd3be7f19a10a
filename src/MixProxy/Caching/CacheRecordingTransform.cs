using MixProxy.Proxy;
using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Caching;

/// <summary>
/// On a cache miss, keeps a copy of a successful response as the client receives it (the last response transform),
/// and stores it once it ended complete; a stream that faulted is never stored.
/// </summary>
internal sealed class CacheRecordingTransform(ResponseCache cache) : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.GetGatewayRequest();
        if (request.CacheKey is not { } key || context.ProxyResponse is not { } upstream || context.HttpContext.Response.StatusCode != 200 || context.SuppressResponseBody)
        {
            return ValueTask.CompletedTask;
        }

        var contentType = context.HttpContext.Response.ContentType ?? "application/json";
        var outcome = request.Call!.Outcome;
        var ttl = request.Route.CacheTtl ?? Routing.RouteSettings.DefaultCacheTtl;
        var inner = upstream.Content.ReadAsStream(context.CancellationToken);
        upstream.Content = new StreamContent(new RecordingStream(
            inner,
            outcome,
            body => _ = cache.SetAsync(key, new CachedResponse(contentType, body.ToArray()), ttl)));
        return ValueTask.CompletedTask;
    }
}
