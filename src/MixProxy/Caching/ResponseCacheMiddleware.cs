using System.Buffers;
using System.Text.Json;
using MixProxy.Auth;
using MixProxy.Proxy;
using MixProxy.Telemetry;
using MixProxy.Translation.Json;

namespace MixProxy.Caching;

/// <summary>
/// The opt-in response cache on the request side: keys the request by the canonical upstream request (the same
/// question to the same upstream, in the same response shape) and replays a hit without calling the upstream; on a
/// miss the response is recorded on its way out (<see cref="CacheRecordingTransform"/>).
/// </summary>
internal sealed class ResponseCacheMiddleware(RequestDelegate next, ResponseCache cache, GatewayMetrics metrics)
{
    private static readonly KeyValuePair<string, object?> Hit = new("mixproxy.cache.result", "hit");
    private static readonly KeyValuePair<string, object?> Miss = new("mixproxy.cache.result", "miss");

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();
        // A request whose answer creates something the client can name later (a stored response) is not replayed.
        return request.WantsCache && request.Request.Cacheable ? LookUpAsync(context, request) : next(context);
    }

    private async Task LookUpAsync(HttpContext context, GatewayRequest request)
    {
        var key = KeyOf(request);
        if (await cache.GetAsync(key, context.RequestAborted).ConfigureAwait(false) is { } hit)
        {
            request.ServedFromCache = true;
            metrics.CacheLookups.Add(1, Hit);
            context.Response.StatusCode = 200;
            context.Response.ContentType = hit.ContentType;
            context.Response.Headers[ResponseCachePolicy.Header] = "hit";
            await context.Response.Body.WriteAsync(hit.Body, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        metrics.CacheLookups.Add(1, Miss);
        context.Response.Headers[ResponseCachePolicy.Header] = "miss";
        request.CacheKey = key;
        await next(context).ConfigureAwait(false);
    }

    /// <summary>Exact match on everything that decides the bytes the client gets back.</summary>
    private static string KeyOf(GatewayRequest request)
    {
        var client = request.Request;
        var upstream = request.Call!.Request;
        var scope = request.Key.Cache == CacheSharing.Shared ? "shared" : request.Key.Hash;
        var shape = $"{request.Endpoint.Id}:{request.Route.OutputText}:{client.ResponseShape}";
        var target = upstream.Path ?? request.Model.UpstreamModel ?? client.Model;

        // A body the gateway wrote is canonical already; the client's own is written compactly from its parsed form,
        // so that whitespace does not split entries.
        ReadOnlySpan<byte> body;
        if (upstream.Body is { } written)
        {
            body = written.Span;
        }
        else if (client.Document is { } document)
        {
            var compact = new ArrayBufferWriter<byte>(client.Body.Length);
            using (var writer = new Utf8JsonWriter(compact, WireJson.WriterOptions))
            {
                document.RootElement.WriteTo(writer);
            }

            body = compact.WrittenSpan;
        }
        else
        {
            body = client.Body.Span;
        }

        return ResponseCache.Key(scope, request.Model.ClusterId, shape, target, client.Stream, client.WantsStreamUsage, body);
    }
}
