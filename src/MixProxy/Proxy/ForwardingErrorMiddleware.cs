using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy;

namespace MixProxy.Proxy;

/// <summary>
/// Before the attempts: when the last attempt's upstream could not be reached or timed out before a response began,
/// the client gets the error in its own protocol (YARP would send an empty 502 or 504), with <c>Retry-After</c> when
/// destinations are cooling down, and the operator a log line.
/// </summary>
internal sealed class ForwardingErrorMiddleware(RequestDelegate next, ILogger<ForwardingErrorMiddleware> logger) : IRequestCompletion
{
    public Task InvokeAsync(HttpContext context)
    {
        context.GetGatewayRequest().OnCompleted(this);
        return next(context);
    }

    public Task CompleteAsync(HttpContext context, GatewayRequest request)
    {
        if (context.GetForwarderErrorFeature() is not { } error || context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        var status = context.Response.StatusCode is >= 400 ? context.Response.StatusCode : 502;
        GatewayLog.ForwardFailed(logger, request.Model.ClusterId, error.Error.ToString());
        if (request.Attempts.RetryAfter is { } comeback)
        {
            RateLimiting.RateLimitHeaders.ApplyRetryAfter(context.Response.Headers, comeback);
        }

        return ClientErrors.WriteAsync(context, request.Api, new ClientError(status, $"The upstream for model '{request.Request.Model}' could not be reached ({error.Error})."));
    }
}
