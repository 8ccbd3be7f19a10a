using System.Globalization;
using MixProxy.Configuration;
using MixProxy.Proxy;
using MixProxy.Routing;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace MixProxy.Upstreams;

/// <summary>
/// Decides where each attempt of a request goes and what a failed attempt means: it keeps destinations' health
/// (<see cref="UpstreamHealth"/>), chooses among the available destinations of the model, then of each fallback in
/// order (lowest priority tier first, untried before tried, by weight when weights differ), prepares the exchange
/// for a fallback of another protocol, and answers 429 or 503 with <c>Retry-After</c> when nothing is available.
/// </summary>
internal sealed class UpstreamRouter(UpstreamHealth health, ProtocolRegistry protocols, IServiceProvider services, GatewayMetrics metrics, ILogger<UpstreamRouter> logger)
{
    // Looked up on first use: YARP builds its routes' transforms (which use this router) while it creates the
    // proxy state, so asking for the state at construction would wait on itself.
    private IProxyStateLookup? _proxyState;

    private IProxyStateLookup ProxyState => _proxyState ??= services.GetRequiredService<IProxyStateLookup>();

    /// <summary>
    /// The next attempt: on the current route (the model itself at first), else on the next fallback that has an
    /// available destination and can take the request. Null when none can. <paramref name="allowTried"/> lets it go back
    /// to destinations already tried (a retry).
    /// </summary>
    public AttemptPlan? Plan(GatewayRequest request, bool allowTried)
    {
        var attempts = request.Attempts;
        var now = health.NowMs;
        var fallbacks = attempts.Model.Fallbacks;
        for (var i = attempts.Current?.RouteIndex ?? 0; i <= fallbacks.Count; i++)
        {
            var route = i == 0 ? attempts.Model : fallbacks[i - 1];
            if (!request.Config.Upstreams.TryGetValue(route.ClusterId, out var cluster) || !TryGetLiveCluster(request.Config, route.ClusterId, out var state))
            {
                GatewayLog.FallbackUnusable(logger, attempts.Model.Name, route.Name, "its cluster is not available yet (a config reload is in progress)");
                continue;
            }

            if (Choose(attempts, cluster, state, now, allowTried) is not ({ } destinations, var retry))
            {
                continue;
            }

            if (attempts.Count == 0 && i == 0)
            {
                // The first attempt on the model itself: the exchange middleware began its call already.
                return ReferenceEquals(destinations, cluster.Destinations)
                    ? cluster.FirstPlan(route, request.Exchange)
                    : new AttemptPlan(0, route, cluster, destinations, request.Exchange, Call: null, Settings: null, retry);
            }

            var sameRoute = attempts.Current is { } current && current.RouteIndex == i;
            var exchange = sameRoute ? attempts.Plan.Exchange : protocols.FindExchange(request.Api, route.Protocols);
            if (exchange is null)
            {
                GatewayLog.FallbackUnusable(logger, attempts.Model.Name, route.Name, $"it is not served to {request.Api.Name} clients");
                continue;
            }

            // Another model on another endpoint: the thought signatures in the conversation came from the first one.
            var settings = sameRoute ? request.Settings : request.Settings with
            {
                Model = route.ProfileFor(route.Name),
                KnownSignatures = null,
                ReplaySignatures = false,
                Dialect = cluster.Dialect,
            };

            try
            {
                // A fresh call each attempt: what a failed attempt read of its response must not leak into the next.
                return new AttemptPlan(i, route, cluster, destinations, exchange, exchange.Begin(request.Request, settings), settings, retry);
            }
            catch (TranslationException e)
            {
                GatewayLog.FallbackUnusable(logger, attempts.Model.Name, route.Name, e.Message);
            }
        }

        return null;
    }

    /// <summary>
    /// An attempt failed: the destination's health learns it, and the request gets its next attempt planned in
    /// <see cref="UpstreamAttempts.Next"/> (true) or gives up, with <see cref="UpstreamAttempts.RetryAfter"/> set when
    /// destinations are cooling down (false).
    /// </summary>
    public bool FailedAndRetrying(GatewayRequest request, AttemptFailure failure, int status, TimeSpan? retryAfter)
    {
        var attempts = request.Attempts;
        attempts.LastFailure = failure;
        if (attempts.Destination is { } destination)
        {
            Record(destination, attempts.Plan.Cluster.Resilience, failure, status, retryAfter);
            metrics.UpstreamAttempts.Add(1, Cluster(destination), Destination(destination), Outcome(OutcomeName(failure)));
        }

        var next = attempts.MayRetry && attempts.Count < MaxAttempts(request) && attempts.Elapsed < attempts.Policy.RetryBudget && attempts.TotalRemaining is not { Ticks: <= 0 }
            ? Plan(request, allowTried: attempts.RetriesLeft > 0)
            : null;
        attempts.Next = next;
        if (next is null)
        {
            attempts.RetryAfter = EarliestComeback(request, out _);
            return false;
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            var failed = OutcomeName(failure);
            GatewayLog.AttemptRetried(logger, attempts.Model.Name, attempts.Count, attempts.Destination?.Label ?? "none", failed);
        }

        if (next.RouteIndex != attempts.Plan.RouteIndex)
        {
            metrics.Fallbacks.Add(1, new KeyValuePair<string, object?>("mixproxy.model", attempts.Model.Name), new KeyValuePair<string, object?>("mixproxy.fallback", next.Route.Name));
        }

        return true;
    }

    /// <summary>The attempt got an answer that says the destination works (a success, or the client's own error).</summary>
    public void Answered(GatewayRequest request, int status)
    {
        if (request.Attempts.Destination is not { } destination)
        {
            return;
        }

        health.ReportSuccess(destination);
        metrics.UpstreamAttempts.Add(1, Cluster(destination), Destination(destination), Outcome(status < 400 ? "success" : "client_error"));
    }

    /// <summary>A stream that broke after its answer began: not retried (the client has part of it), but the destination failed.</summary>
    public void FailedMidStream(GatewayRequest request)
    {
        if (request.Attempts.Destination is { } destination)
        {
            Record(destination, request.Attempts.Plan.Cluster.Resilience, AttemptFailure.Unreachable, 0, null);
            metrics.UpstreamAttempts.Add(1, Cluster(destination), Destination(destination), Outcome("broke_mid_stream"));
        }
    }

    /// <summary>Nothing to send the request to: 429 when every destination is out on quota, else 503; both with the earliest comeback.</summary>
    public Task RefuseAsync(HttpContext context, GatewayRequest request)
    {
        var retryAfter = EarliestComeback(request, out var allQuota);
        var status = allQuota ? 429 : 503;
        var model = request.Request.Model;
        var wait = retryAfter is { } r ? " Retry in " + Seconds(r) + " s." : string.Empty;
        var message = allQuota
            ? $"Every upstream of model '{model}' is cooling down after reaching its quota.{wait}"
            : $"No upstream of model '{model}' is available right now.{wait}";
        if (retryAfter is { } after)
        {
            RateLimiting.RateLimitHeaders.ApplyRetryAfter(context.Response.Headers, after);
        }

        GatewayLog.NothingAvailable(logger, request.Attempts.Model.Name, allQuota ? "quota" : "down", status);
        metrics.Unserved.Add(1, new KeyValuePair<string, object?>("mixproxy.model", request.Attempts.Model.Name), new KeyValuePair<string, object?>("http.response.status_code", status));
        return ClientErrors.WriteAsync(context, request.Api, new ClientError(status, message, Kind: allQuota ? ClientErrorKind.RateLimited : ClientErrorKind.None));
    }

    /// <summary>The live YARP cluster of a model's cluster id, when YARP has applied the same generation as <paramref name="config"/>.</summary>
    public bool TryGetLiveCluster(GatewaySnapshot config, string clusterId, out ClusterState cluster)
    {
        // YARP and the snapshot disagree for a moment during a reload: never send one generation's credential to
        // another generation's destination.
        if (!ProxyState.TryGetCluster(clusterId, out cluster!) || cluster.Model is not { } model || !config.Upstreams.TryGetValue(clusterId, out var upstream))
        {
            return false;
        }

        if (ReferenceEquals(upstream.VerifiedModel, model))
        {
            return true; // YARP's model for this cluster has not changed since it was found to be this generation's
        }

        foreach (var c in config.Clusters)
        {
            if (c.ClusterId == clusterId && c.Equals(model.Config))
            {
                upstream.VerifiedModel = model;
                return true;
            }
        }

        return false;
    }

    private static string Seconds(TimeSpan wait) => Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static KeyValuePair<string, object?> Cluster(UpstreamDestination d) => new("mixproxy.cluster", d.ClusterId);

    private static KeyValuePair<string, object?> Destination(UpstreamDestination d) => new("mixproxy.destination", d.Id);

    private static KeyValuePair<string, object?> Outcome(string outcome) => new("mixproxy.attempt.outcome", outcome);

    private static string OutcomeName(AttemptFailure failure) => failure switch
    {
        AttemptFailure.Quota => "quota",
        AttemptFailure.Credential => "credential_rejected",
        AttemptFailure.ServerError => "server_error",
        AttemptFailure.Unreachable => "unreachable",
        _ => "timeout",
    };

    /// <summary>Every destination of the model and its fallbacks once, plus the retries: a request never exceeds it.</summary>
    private static int MaxAttempts(GatewayRequest request)
    {
        var attempts = request.Attempts;
        var total = attempts.Policy.Retries + Destinations(request.Config, attempts.Model);
        foreach (var fallback in attempts.Model.Fallbacks)
        {
            total += Destinations(request.Config, fallback);
        }

        return total;

        static int Destinations(GatewaySnapshot config, ModelRoute route) => config.Upstreams.TryGetValue(route.ClusterId, out var c) ? c.Destinations.Count : 0;
    }

    private void Record(UpstreamDestination destination, ResilienceSettings settings, AttemptFailure failure, int status, TimeSpan? retryAfter)
    {
        switch (failure)
        {
            case AttemptFailure.Quota:
                var quota = health.ReportQuota(destination, settings, retryAfter, status);
                GatewayLog.DestinationCooledDown(logger, destination.QuotaGroup is { } group ? $"{destination.Label} (quota group {group})" : destination.Label, quota.Reason, status, Remaining(quota));
                break;
            case AttemptFailure.Credential:
                health.ReportCredentialRejected(destination, status);
                GatewayLog.DestinationCredentialRejected(logger, destination.Label, status);
                break;
            default:
                if (health.ReportFailure(destination, settings, status) is { } cooled)
                {
                    GatewayLog.DestinationCooledDown(logger, destination.Label, cooled.Reason, status, Remaining(cooled));
                }

                break;
        }
    }

    private double Remaining(Cooldown cooldown) => Math.Round((cooldown.UntilMs - health.NowMs) / 1000.0, 1);

    /// <summary>
    /// The available destinations of one cluster for the next attempt: the lowest priority tier that has one, untried
    /// ones first (tried ones only when <paramref name="allowTried"/>: that is a retry); one of them by weight when
    /// weights differ, else all of them for the cluster's load-balancing policy. Null when none is available.
    /// </summary>
    private (IReadOnlyList<UpstreamDestination>, bool Retry)? Choose(UpstreamAttempts attempts, UpstreamCluster cluster, ClusterState state, long now, bool allowTried)
    {
        var all = cluster.Destinations;
        var healthy = state.DestinationsState.AvailableDestinations;
        if (all.Count == 1)
        {
            // The common shape (one destination) decides without a list.
            var only = all[0];
            if (!health.IsAvailable(only, now, out _) || !IsHealthy(only, healthy, all.Count))
            {
                return null;
            }

            return !attempts.WasTried(only) ? (all, false) : allowTried ? (all, true) : null;
        }

        List<UpstreamDestination>? untried = null;
        List<UpstreamDestination>? tried = null;
        foreach (var destination in all)
        {
            if (!health.IsAvailable(destination, now, out _) || !IsHealthy(destination, healthy, all.Count))
            {
                continue;
            }

            if (!attempts.WasTried(destination))
            {
                AddIfSameTier(ref untried, destination);
            }
            else if (allowTried)
            {
                AddIfSameTier(ref tried, destination);
            }
        }

        var (chosen, retry) = untried is not null ? (untried, false) : (tried, true);
        if (chosen is null)
        {
            return null;
        }

        if (cluster.Weighted && chosen.Count > 1)
        {
            chosen = [PickByWeight(chosen)];
        }

        return (chosen, retry);

        // Destinations come lowest tier first: the first one found sets the tier.
        static void AddIfSameTier(ref List<UpstreamDestination>? list, UpstreamDestination destination)
        {
            if (list is null)
            {
                list = [destination];
            }
            else if (list[0].Priority == destination.Priority)
            {
                list.Add(destination);
            }
        }
    }

    /// <summary>YARP's own view (active health probes): when it has every destination available, no lookup is needed.</summary>
    private static bool IsHealthy(UpstreamDestination destination, IReadOnlyList<DestinationState> healthy, int total)
    {
        if (healthy.Count == total)
        {
            return true;
        }

        foreach (var state in healthy)
        {
            if (string.Equals(state.DestinationId, destination.Id, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static UpstreamDestination PickByWeight(List<UpstreamDestination> candidates)
    {
        var total = 0;
        foreach (var candidate in candidates)
        {
            total += candidate.Weight;
        }

        var ticket = Random.Shared.Next(total);
        foreach (var candidate in candidates)
        {
            ticket -= candidate.Weight;
            if (ticket < 0)
            {
                return candidate;
            }
        }

        return candidates[^1];
    }

    /// <summary>
    /// How long until a destination of the model or its fallbacks is back (null when none is out, or none comes back
    /// by itself), and whether every destination out is out on quota.
    /// </summary>
    private TimeSpan? EarliestComeback(GatewayRequest request, out bool allQuota)
    {
        var now = health.NowMs;
        var attempts = request.Attempts;
        long? earliest = null;
        allQuota = true;
        var anyOut = false;
        for (var i = 0; i <= attempts.Model.Fallbacks.Count; i++)
        {
            var route = i == 0 ? attempts.Model : attempts.Model.Fallbacks[i - 1];
            if (!request.Config.Upstreams.TryGetValue(route.ClusterId, out var cluster))
            {
                continue;
            }

            foreach (var destination in cluster.Destinations)
            {
                if (health.IsAvailable(destination, now, out var blocking))
                {
                    // Available, yet not usable (YARP's probes, or the request could not go there): not on quota.
                    allQuota = false;
                    continue;
                }

                anyOut = true;
                allQuota &= blocking!.Reason == CooldownReason.Quota;
                if (blocking.UntilMs != Cooldown.Indefinitely && (earliest is null || blocking.UntilMs < earliest))
                {
                    earliest = blocking.UntilMs;
                }
            }
        }

        allQuota &= anyOut;
        return earliest is { } until ? TimeSpan.FromMilliseconds(Math.Max(0, until - now)) : null;
    }
}
