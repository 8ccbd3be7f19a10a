using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy;

namespace MixProxy.Proxy;

/// <summary>
/// Last before YARP forwards: when the upstream could not be reached or timed out before a response began, the client
/// gets the error in its own protocol (YARP would send an empty 502 or 504) and the operator a log line.
/// </summary>
internal sealed class ForwardingErrorMiddleware(RequestDelegate next, ILogger<ForwardingErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context).ConfigureAwait(false);
        if (context.GetForwarderErrorFeature() is not { } error || context.Response.HasStarted)
        {
            return;
        }

        var request = context.GetGatewayRequest();
        var status = context.Response.StatusCode is >= 400 ? context.Response.StatusCode : 502;
        GatewayLog.ForwardFailed(logger, request.Model.ClusterId, error.Error.ToString());
        await ClientErrors.WriteAsync(context, request.Api, new ClientError(status, $"The upstream for model '{request.Request.Model}' could not be reached ({error.Error}).")).ConfigureAwait(false);
    }
}
