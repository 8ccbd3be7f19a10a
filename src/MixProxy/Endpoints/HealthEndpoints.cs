using System.Globalization;
using MixProxy.Configuration;

namespace MixProxy.Endpoints;

/// <summary>Liveness (the process answers) and readiness (a valid config is in force) for orchestrators.</summary>
internal static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz/live", () => Results.Text("ok"));
        endpoints.MapGet("/healthz/ready", (GatewayConfigStore store) =>
            Results.Text("ready; config generation " + store.Current.Generation.ToString(CultureInfo.InvariantCulture)));
    }
}
