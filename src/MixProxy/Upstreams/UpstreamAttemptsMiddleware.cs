using Microsoft.Extensions.Primitives;
using MixProxy.Proxy;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace MixProxy.Upstreams;

/// <summary>
/// Last of the gateway's middleware before YARP's load balancer and forwarder: it runs the request's attempts. Each
/// goes to the destinations the router chose (on the model, then on its fallbacks); one that fails before the client
/// received a byte (unreachable, too slow to a first byte, 429, 5xx, the gateway's key refused) is followed by the next
/// attempt, bounded by the destinations, the retries and the time budget, with a jittered backoff before going back to
/// a destination already tried. The client's body is sent again from the buffer the gateway holds. Once bytes went out,
/// nothing is retried. With nothing available the client gets 429 or 503 with <c>Retry-After</c>.
/// </summary>
internal sealed class UpstreamAttemptsMiddleware(RequestDelegate next, UpstreamRouter router) : IRequestCompletion
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();
        var attempts = request.Attempts;
        if (router.Plan(request, allowTried: false) is not { } plan)
        {
            return router.RefuseAsync(context, request);
        }

        if (!attempts.MayRetry && plan.Cluster.Resilience.FirstByteTimeout is null && attempts.Policy.TotalTimeout is null)
        {
            // One attempt and no timer (one destination, no retries, no fallbacks): no async frame of its own; what
            // the attempt taught reaches the destination's health once the response is over.
            context.GetReverseProxyFeature().AvailableDestinations = Begin(context, request, plan);
            request.OnCompleted(this);
            return next(context);
        }

        return AttemptAsync(context, request, plan);
    }

    public Task CompleteAsync(HttpContext context, GatewayRequest request)
    {
        ShouldRetry(context, request, timedOut: false);
        return Task.CompletedTask;
    }

    private async Task AttemptAsync(HttpContext context, GatewayRequest request, AttemptPlan plan)
    {
        var attempts = request.Attempts;

        // Headers the gateway set before the first attempt (the cache's, say) survive the reset between attempts.
        var kept = attempts.MayRetry ? KeepHeaders(context.Response.Headers) : null;
        var clientAborted = context.RequestAborted;
        while (true)
        {
            var state = Begin(context, request, plan);
            var timeout = Timeout(attempts, plan, clientAborted);
            attempts.Arm(timeout);
            if (timeout is not null)
            {
                context.RequestAborted = timeout.Token;
            }

            try
            {
                context.GetReverseProxyFeature().AvailableDestinations = state;
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                attempts.Arm(null);
                context.RequestAborted = clientAborted;
            }

            var timedOut = timeout?.IsCancellationRequested == true && !clientAborted.IsCancellationRequested;
            timeout?.Dispose();
            if (!ShouldRetry(context, request, timedOut))
            {
                if (timedOut && !context.Response.HasStarted)
                {
                    context.Response.Clear();
                    await ClientErrors.WriteAsync(context, request.Api, new ClientError(504, $"The upstream for model '{request.Request.Model}' did not answer in time.")).ConfigureAwait(false);
                }

                return;
            }

            plan = attempts.Next!;
            Reset(context, kept);
            if (plan.Retry && Backoff(attempts) is { } pause)
            {
                await Task.Delay(pause, clientAborted).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Points the request at the plan's route, exchange and cluster, and gives YARP the destinations to choose from.</summary>
    private IReadOnlyList<DestinationState> Begin(HttpContext context, GatewayRequest request, AttemptPlan plan)
    {
        var attempts = request.Attempts;
        var previous = attempts.Current;
        attempts.Start(plan);
        if (plan.Call is { } call)
        {
            request.Call = call;
            request.Exchange = plan.Exchange;
            request.Settings = plan.Settings ?? request.Settings;
        }

        if (!router.TryGetLiveCluster(request.Config, plan.Cluster.Id, out var cluster))
        {
            // Planned against this generation a moment ago; YARP cannot have moved on meanwhile without a new
            // snapshot, which this request does not use. Treat as a gateway bug if it ever happens.
            throw new InvalidOperationException($"Cluster '{plan.Cluster.Id}' vanished between planning and sending.");
        }

        if ((previous?.RouteIndex ?? 0) != plan.RouteIndex)
        {
            request.Model = plan.Route;
            request.Telemetry.Describe(request.Endpoint, plan.Exchange.Upstream, attempts.Model, request.Request.Model, request.Stream, plan.Route);
            context.ReassignProxyRequest(cluster);
        }

        var healthy = cluster.DestinationsState.AvailableDestinations;
        if (plan.Destinations.Count == healthy.Count)
        {
            return healthy; // every destination YARP considers healthy: its own list, no copy
        }

        var chosen = new List<DestinationState>(plan.Destinations.Count);
        foreach (var destination in plan.Destinations)
        {
            if (cluster.Destinations.TryGetValue(destination.Id, out var state))
            {
                chosen.Add(state);
            }
        }

        return chosen;
    }

    /// <summary>The attempt's timer: its cluster's first-byte timeout, capped by what is left of the total; null when neither is set.</summary>
    private static CancellationTokenSource? Timeout(UpstreamAttempts attempts, AttemptPlan plan, CancellationToken clientAborted)
    {
        var firstByte = plan.Cluster.Resilience.FirstByteTimeout;
        var total = attempts.TotalRemaining;
        if (firstByte is null && total is null)
        {
            return null;
        }

        var timeout = CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
        var after = firstByte is { } f && (total is null || f < total) ? f : total!.Value;
        timeout.CancelAfter(after > TimeSpan.Zero ? after : TimeSpan.FromMilliseconds(1));
        return timeout;
    }

    /// <summary>
    /// Whether the attempt that just ended is followed by another (and, either way, what it taught the destination's
    /// health). A failed answer was judged by
    /// <see cref="UpstreamAttemptTransform"/> already (its body withheld when another attempt follows); a failure
    /// without an answer is judged here. Nothing is retried once the client received bytes.
    /// </summary>
    private bool ShouldRetry(HttpContext context, GatewayRequest request, bool timedOut)
    {
        var attempts = request.Attempts;
        if (context.Response.HasStarted)
        {
            if (request.Call?.Outcome.UpstreamFault is not null || context.GetForwarderErrorFeature()?.Error == ForwarderError.ResponseBodyDestination)
            {
                router.FailedMidStream(request);
            }

            return false;
        }

        if (attempts.Next is not null)
        {
            return true;
        }

        if (context.GetForwarderErrorFeature() is not { } error || context.RequestAborted.IsCancellationRequested)
        {
            return false;
        }

        AttemptFailure? failure = timedOut ? AttemptFailure.Timeout : error.Error switch
        {
            ForwarderError.Request or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination or ForwarderError.RequestBodyDestination => AttemptFailure.Unreachable,
            ForwarderError.RequestTimedOut => AttemptFailure.Timeout,
            _ => null, // the client's side (its body, its going away) or the gateway's own: not the upstream's doing
        };
        return failure is { } f && router.FailedAndRetrying(request, f, 0, null);
    }

    /// <summary>Up to <c>Backoff</c> × 2^(retries so far), capped by <c>MaxBackoff</c> and the time budget left; drawn at random (full jitter).</summary>
    private static TimeSpan? Backoff(UpstreamAttempts attempts)
    {
        var policy = attempts.Policy;
        var spent = policy.Retries - attempts.RetriesLeft; // this retry not yet counted
        var ceiling = Math.Min(policy.MaxBackoff.Ticks, policy.Backoff.Ticks * (1L << Math.Min(spent, 20)));
        ceiling = Math.Min(ceiling, Math.Max(0, (policy.RetryBudget - attempts.Elapsed).Ticks));
        return ceiling <= 0 ? null : TimeSpan.FromTicks(Random.Shared.NextInt64(ceiling));
    }

    private static List<KeyValuePair<string, StringValues>> KeepHeaders(IHeaderDictionary headers)
    {
        var kept = new List<KeyValuePair<string, StringValues>>(headers.Count);
        foreach (var header in headers)
        {
            kept.Add(header);
        }

        return kept;
    }

    /// <summary>Back to the response as it was before the first attempt (nothing of it has left the gateway).</summary>
    private static void Reset(HttpContext context, List<KeyValuePair<string, StringValues>>? kept)
    {
        context.Response.Clear();
        foreach (var (name, value) in kept ?? [])
        {
            context.Response.Headers[name] = value;
        }

        context.Features.Set<IForwarderErrorFeature>(null);
    }
}
