using MixProxy.Proxy;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy;

namespace MixProxy.RateLimiting;

/// <summary>
/// Admits the request against its key's limits (after validation: a bad request costs nothing), refusing with 429
/// (or 503 when limits cannot be checked) in the client's protocol, and adds the rate-limit headers. Once the
/// response is over it settles the key's token reservation with the real usage, also when the client went away.
/// </summary>
internal sealed class AdmissionMiddleware(RequestDelegate next, GatewayRateLimiter limiter, GatewayMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();
        var client = request.Request;

        // Counting tokens generates none and reports no usage to settle with: it reserves nothing (it still counts as a request).
        var generates = request.Endpoint.Generates;
        var ticket = await limiter.AdmitAsync(request.Key, request.Model, client.Model, generates ? client.BodyBytes : 0, generates ? client.MaxOutputTokens : 0, context.RequestAborted).ConfigureAwait(false);
        if (ticket.Admission is not null)
        {
            var outcome = ticket.Result.Allowed ? "allowed" : ticket.Result.DeniedBy is null ? "unavailable" : "denied";
            var limit = ticket.Result.DeniedBy?.ToString().ToLowerInvariant() ?? "none";
            metrics.LimiterDecisions.Add(
                1,
                new KeyValuePair<string, object?>("mixproxy.limiter.outcome", outcome),
                new KeyValuePair<string, object?>("mixproxy.limiter.limit", limit),
                new KeyValuePair<string, object?>("mixproxy.limiter.degraded", ticket.Result.Degraded));
        }

        if (!ticket.Result.Allowed)
        {
            await RefuseAsync(context, request, ticket.Result).ConfigureAwait(false);
            return;
        }

        if (ticket.Result.States.Count > 0)
        {
            context.Response.OnStarting(() =>
            {
                RateLimitHeaders.Apply(context.Response.Headers, ticket.Result);
                return Task.CompletedTask;
            });
        }

        request.RateLimit = ticket;
        var upstreamFailed = true;
        try
        {
            await next(context).ConfigureAwait(false);

            // A stream cut after its headers went out did reach the model: keep its reservation (see SettleAsync).
            upstreamFailed = !request.ServedFromCache
                && ((context.GetForwarderErrorFeature() is not null && !context.Response.HasStarted) || context.Response.StatusCode >= 400);
        }
        finally
        {
            // A replay costs the upstream nothing: the reservation is refunded in full.
            var usage = request.ServedFromCache ? TokenUsage.None : request.Call?.Outcome.Usage;
            await limiter.SettleAsync(ticket, usage, upstreamFailed, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static Task RefuseAsync(HttpContext context, GatewayRequest request, AdmissionResult result)
    {
        if (result.DeniedBy is null)
        {
            // Redis is down and the limiter is configured to fail closed.
            RateLimitHeaders.ApplyRetryAfter(context.Response.Headers, result.RetryAfter);
            return ClientErrors.WriteAsync(context, request.Api, new ClientError(503, "Rate limits cannot be checked right now (limiter store unavailable); retry shortly."));
        }

        RateLimitHeaders.Apply(context.Response.Headers, result);
        RateLimitHeaders.ApplyRetryAfter(context.Response.Headers, result.RetryAfter);
        var what = result.DeniedBy switch
        {
            LimitKind.Requests => "requests per minute",
            LimitKind.Tokens => "tokens per minute",
            _ => "concurrent requests",
        };
        var seconds = Math.Max(1, (long)Math.Ceiling(result.RetryAfter.TotalSeconds));
        return ClientErrors.WriteAsync(context, request.Api, new ClientError(429, $"Rate limit reached for key '{request.Key.Name}' on {what}. Please try again in {seconds}s.", Code: "rate_limit_exceeded"));
    }
}
