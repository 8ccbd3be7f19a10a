using MixProxy.Endpoints;
using MixProxy.Proxy;
using MixProxy.Translation.Protocols;

namespace MixProxy.Lifecycle;

/// <summary>
/// While the gateway drains, a request that still reaches it (on a connection opened before SIGTERM) is refused with a
/// 503 in the client's protocol and the connection is closed, so the client retries on another replica. Readiness,
/// liveness, metrics and the operator's endpoints still answer: the orchestrator and the last scrape need them.
/// </summary>
internal static class DrainRefusal
{
    public static IApplicationBuilder UseDrainRefusal(this IApplicationBuilder app, ProtocolRegistry protocols)
    {
        var drain = app.ApplicationServices.GetRequiredService<GatewayDrain>();
        return app.Use((context, next) =>
        {
            if (!drain.Draining || IsOperational(context.Request.Path))
            {
                return next(context);
            }

            context.Response.Headers.Connection = "close";
            context.Response.Headers.RetryAfter = "1";
            return ClientErrors.WriteAsync(context, protocols.ClientApiFor(new HttpRequestHead(context.Request)),
                new ClientError(503, "This gateway replica is shutting down; retry the request on another."));
        });
    }

    private static bool IsOperational(PathString path) =>
        path.StartsWithSegments(HealthEndpoints.Prefix) || path.StartsWithSegments("/metrics") || path.StartsWithSegments(Upstreams.UpstreamStatusEndpoints.Path);
}
