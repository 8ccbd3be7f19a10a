using System.Globalization;
using MixProxy.Configuration;
using MixProxy.Lifecycle;
using MixProxy.RateLimiting;

namespace MixProxy.Endpoints;

/// <summary>Liveness (the process answers) and readiness (a valid config is in force, not shutting down) for orchestrators.</summary>
internal static class HealthEndpoints
{
    public const string Prefix = "/healthz";

    public static void MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Prefix + "/live", () => Results.Text("ok"));
        // Readiness stays 200 while Redis is down: the gateway still serves (under local limits, or refusing
        // rate-limited keys in Closed mode), and taking every replica out of rotation would be worse. It says so.
        // It fails from the moment the gateway begins to shut down, so no load balancer sends it more.
        endpoints.MapGet(Prefix + "/ready", (GatewayConfigStore store, GatewayRateLimiter limiter, GatewayDrain drain) =>
            drain.Draining
                ? Results.Text("shutting down; requests in flight are finishing", statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Text(
                    "ready; config generation " + store.Current.Generation.ToString(CultureInfo.InvariantCulture)
                    + "; limits " + (!limiter.UsesRedis ? "in memory" : limiter.Degraded ? "degraded (Redis unreachable)" : "shared in Redis")));
    }
}
