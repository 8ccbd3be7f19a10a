using System.Diagnostics;
using MixProxy.Configuration;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy;

namespace MixProxy.Proxy;

/// <summary>
/// First in YARP's proxy pipeline: binds the request to the route it matched in the config generation in force and
/// starts its <see cref="GatewayRequest"/>, which the middlewares after it fill. A route from a generation that was
/// just replaced gets a 503 to retry.
/// </summary>
internal sealed class GatewayRequestMiddleware(RequestDelegate next, GatewayConfigStore store, ProtocolRegistry protocols)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var arrivedAt = Stopwatch.GetTimestamp();
        var config = store.Current;
        var head = new HttpRequestHead(context.Request);
        if (!config.RouteSettings.TryGetValue(context.GetReverseProxyFeature().Route.Config.RouteId, out var route))
        {
            await ClientErrors.WriteAsync(context, protocols.ClientApiFor(head), new ClientError(503, "The gateway configuration changed while this request arrived; retry.")).ConfigureAwait(false);
            return;
        }

        context.Features.Set(new GatewayRequest(config, route, new RequestTelemetry(arrivedAt), head));
        await next(context).ConfigureAwait(false);
    }
}
