using System.Diagnostics;
using MixProxy.Configuration;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy;

namespace MixProxy.Proxy;

/// <summary>
/// First in YARP's proxy pipeline, the request's life from start to end. It binds the request to the route it matched
/// in the config generation in force (a route from a generation just replaced gets a 503 to retry) and starts its
/// <see cref="GatewayRequest"/>, which the middlewares after it fill. When the rest of the pipeline is over it turns
/// an exception no step expected (a gateway bug: a translator that threw something other than its validation error)
/// into a logged error and a 500 in the client's protocol, runs the steps registered for the end of the response
/// (<see cref="IRequestCompletion"/>), lets go of the parsed body, and records the request's metrics.
/// </summary>
internal sealed class GatewayRequestMiddleware(RequestDelegate next, GatewayConfigStore store, ProtocolRegistry protocols, RequestMetrics metrics, ILogger<GatewayRequestMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var arrivedAt = Stopwatch.GetTimestamp();
        var config = store.Current;
        var head = new HttpRequestHead(context.Request);
        if (!config.RouteSettings.TryGetValue(context.GetReverseProxyFeature().Route.Config.RouteId, out var route))
        {
            return ClientErrors.WriteAsync(context, protocols.ClientApiFor(head), new ClientError(503, "The gateway configuration changed while this request arrived; retry."));
        }

        var request = new GatewayRequest(config, route, new RequestTelemetry(arrivedAt), head);
        context.Features.Set(request);
        return RunAsync(context, request);
    }

    private async Task RunAsync(HttpContext context, GatewayRequest request)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
        {
            // (A failure once the client has gone is the client going, not a bug: it is left to ASP.NET.)
            if (context.Response.HasStarted)
            {
                GatewayLog.RequestFailedAfterStart(logger, request.Endpoint.Id, e);
                throw; // the status is out: all that is left is to end the connection
            }

            GatewayLog.RequestFailed(logger, request.Endpoint.Id, e);

            context.Response.Clear();
            await ClientErrors.WriteAsync(context, request.Api, new ClientError(500, "The gateway failed while handling this request; the failure is logged.")).ConfigureAwait(false);
        }
        finally
        {
            await request.CompleteAsync(context, logger).ConfigureAwait(false);
            request.ReleaseBody();
            metrics.Record(context, request);
        }
    }
}
