using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;

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

        var model = request.Request.Model;
        var message = error.Error switch
        {
            // The client's side of the copy: its body broke off or ran past the size limit (Kestrel's status says which).
            ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled => status == 413
                ? "The request body is larger than this gateway accepts."
                : "The request body could not be read to the end.",
            ForwarderError.RequestTimedOut => $"The upstream for model '{model}' did not answer in time.",
            ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination => $"The upstream for model '{model}' broke off its answer.",
            _ => $"The upstream for model '{model}' could not be reached.",
        };
        return ClientErrors.WriteAsync(context, request.Api, new ClientError(status, message));
    }
}
