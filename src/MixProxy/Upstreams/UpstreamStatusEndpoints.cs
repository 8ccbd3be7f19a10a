using System.Text.Json;
using MixProxy.Configuration;
using MixProxy.Telemetry;
using Yarp.ReverseProxy;

namespace MixProxy.Upstreams;

/// <summary>
/// <c>GET /admin/upstreams</c>: every destination of the config in force, whether it is in rotation, and when not, why
/// and for how long. <c>POST /admin/upstreams/{cluster}/{destination}/reset</c> puts a destination back (a key that
/// was refused and has been fixed upstream). Both answer only where <c>/metrics</c> does: on the metrics port when one
/// is set, else to loopback callers.
/// </summary>
internal static class UpstreamStatusEndpoints
{
    public const string Path = "/admin/upstreams";

    public static void MapUpstreamStatus(this IEndpointRouteBuilder endpoints, Func<HttpContext, bool> isOperator)
    {
        endpoints.MapGet(Path, (HttpContext context, GatewayConfigStore store, UpstreamHealth health, IProxyStateLookup proxy) =>
        {
            if (!isOperator(context))
            {
                return Results.NotFound();
            }

            var config = store.Current;
            var now = health.NowMs;
            return Results.Json(new
            {
                generation = config.Generation,
                shared = health.Sharing is not null,
                clusters = config.Upstreams.Values.Select(cluster => new
                {
                    id = cluster.Id,
                    destinations = cluster.Destinations.Select(d => Describe(d, health, proxy, now)),
                }),
            });
        });

        endpoints.MapPost(Path + "/{cluster}/{destination}/reset", (HttpContext context, string cluster, string destination, GatewayConfigStore store, UpstreamHealth health, ILoggerFactory loggers) =>
        {
            if (!isOperator(context))
            {
                return Results.NotFound();
            }

            if (store.Current.Upstreams.GetValueOrDefault(cluster)?.Find(destination) is not { } found)
            {
                return Results.Json(new { error = $"No destination '{destination}' in cluster '{cluster}'." }, statusCode: 404);
            }

            health.Reset(found);
            var logger = loggers.CreateLogger(typeof(UpstreamStatusEndpoints));
            GatewayLog.DestinationReset(logger, found.Label);
            return Results.Json(new { reset = found.Label });
        });
    }

    /// <summary>The destinations' states for the upstream gauges (read at scrape time).</summary>
    public static IEnumerable<DestinationStateReading> Readings(GatewayConfigStore store, UpstreamHealth health, IProxyStateLookup proxy)
    {
        var now = health.NowMs;
        foreach (var cluster in store.Current.Upstreams.Values)
        {
            foreach (var destination in cluster.Destinations)
            {
                var available = health.IsAvailable(destination, now, out var blocking);
                var probed = ActiveHealth(destination, proxy);
                var reason = blocking is not null ? Reason(blocking.Reason) : probed == "Unhealthy" ? "probe_failed" : "none";
                KeyValuePair<string, object?>[] tags =
                [
                    new("mixproxy.cluster", cluster.Id),
                    new("mixproxy.destination", destination.Id),
                    new("mixproxy.cooldown.reason", reason),
                ];
                double remaining = blocking is null ? 0 : blocking.UntilMs == Cooldown.Indefinitely ? -1 : (blocking.UntilMs - now) / 1000.0;
                yield return new DestinationStateReading(tags, available && probed != "Unhealthy", remaining);
            }
        }
    }

    private static object Describe(UpstreamDestination destination, UpstreamHealth health, IProxyStateLookup proxy, long now)
    {
        var available = health.IsAvailable(destination, now, out var blocking);
        var probed = ActiveHealth(destination, proxy);
        return new
        {
            id = destination.Id,
            address = destination.Address,
            priority = destination.Priority,
            weight = destination.Weight,
            quotaGroup = destination.QuotaGroup,
            available = available && probed != "Unhealthy",
            activeHealth = probed,
            consecutiveFailures = health.ConsecutiveFailures(destination),
            cooldown = blocking is null ? null : new
            {
                reason = Reason(blocking.Reason),
                scope = health.Cooldowns.TryGetValue(destination.QuotaKey, out var q) && ReferenceEquals(q, blocking) && destination.QuotaGroup is not null ? "quota_group" : "destination",
                status = blocking.Status,
                strikes = blocking.Strikes,
                remainingSeconds = blocking.UntilMs == Cooldown.Indefinitely ? (double?)null : Math.Round((blocking.UntilMs - now) / 1000.0, 3),
                untilReset = blocking.UntilMs == Cooldown.Indefinitely,
            },
        };
    }

    private static string ActiveHealth(UpstreamDestination destination, IProxyStateLookup proxy) =>
        proxy.TryGetCluster(destination.ClusterId, out var cluster) && cluster.Destinations.TryGetValue(destination.Id, out var state)
            ? state.Health.Active.ToString()
            : "Unknown";

    private static string Reason(CooldownReason reason) => reason switch
    {
        CooldownReason.Quota => "quota",
        CooldownReason.Failure => "failures",
        _ => "credential_rejected",
    };
}
