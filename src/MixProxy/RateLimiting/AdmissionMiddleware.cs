using MixProxy.Proxy;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;

namespace MixProxy.RateLimiting;

/// <summary>
/// Admits the request against its key's limits (after validation: a bad request costs nothing), refusing with 429
/// (or 503 when limits cannot be checked) in the client's protocol, and adds the rate-limit headers. Once the
/// response is over it settles the key's token reservation with the real usage, also when the client went away.
/// </summary>
internal sealed class AdmissionMiddleware(RequestDelegate next, GatewayRateLimiter limiter, GatewayMetrics metrics) : IRequestCompletion
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();
        var client = request.Request;

        // Counting tokens generates none and reports no usage to settle with: it reserves nothing (it still counts as a request).
        var generates = request.Endpoint.Generates;
        var admitting = limiter.AdmitAsync(request.Key, request.Model, client.Model, generates ? client.BodyBytes : 0, generates ? client.MaxOutputTokens : 0, context.RequestAborted);
        return admitting.IsCompletedSuccessfully ? ContinueAsync(context, request, admitting.Result) : AwaitAdmissionAsync(context, request, admitting);
    }

    private async Task AwaitAdmissionAsync(HttpContext context, GatewayRequest request, Task<RateLimitTicket> admitting) =>
        await ContinueAsync(context, request, await admitting.ConfigureAwait(false)).ConfigureAwait(false);

    private Task ContinueAsync(HttpContext context, GatewayRequest request, RateLimitTicket ticket)
    {
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
            return RefuseAsync(context, request, ticket.Result);
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
        request.OnCompleted(this);
        return next(context);
    }

    /// <summary>
    /// Settles the reservation once the response is over, also when the client went away or the gateway failed, from
    /// what happened rather than from the response's state: the real usage when the upstream reported it; refunded when
    /// the upstream never answered (unreachable, or the request ended before it was asked), answered with an error, or
    /// the client got an error instead of its answer; kept when a stream was cut after its headers went out (it did
    /// reach the model, see <see cref="GatewayRateLimiter.SettleAsync"/>); refunded for a cache replay.
    /// </summary>
    public Task CompleteAsync(HttpContext context, GatewayRequest request)
    {
        var upstreamStatus = request.Telemetry.UpstreamStatus;
        var upstreamFailed = !request.ServedFromCache && (upstreamStatus is 0 or >= 400 || context.Response.StatusCode >= 400);
        var usage = request.ServedFromCache ? TokenUsage.None : request.Call?.Outcome.Usage;
        return limiter.SettleAsync(request.RateLimit!, usage, upstreamFailed, CancellationToken.None);
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
        return ClientErrors.WriteAsync(context, request.Api, new ClientError(429, $"Rate limit reached for key '{request.Key.Name}' on {what}. Please try again in {seconds}s.", Kind: ClientErrorKind.RateLimited));
    }
}
