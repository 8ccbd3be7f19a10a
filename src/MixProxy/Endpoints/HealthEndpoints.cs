using System.Globalization;
using MixProxy.Configuration;
using MixProxy.RateLimiting;

namespace MixProxy.Endpoints;

/// <summary>Liveness (the process answers) and readiness (a valid config is in force) for orchestrators.</summary>
internal static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz/live", () => Results.Text("ok"));
        // Readiness stays 200 while Redis is down: the gateway still serves (under local limits, or refusing
        // rate-limited keys in Closed mode), and taking every replica out of rotation would be worse. It says so.
        endpoints.MapGet("/healthz/ready", (GatewayConfigStore store, GatewayRateLimiter limiter) =>
            Results.Text(
                "ready; config generation " + store.Current.Generation.ToString(CultureInfo.InvariantCulture)
                + "; limits " + (!limiter.UsesRedis ? "in memory" : limiter.Degraded ? "degraded (Redis unreachable)" : "shared in Redis")));
    }
}
