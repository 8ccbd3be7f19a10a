using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;

namespace MixProxy.Proxy;

/// <summary>
/// Turns an exception no step expected (a gateway bug: a translator that threw something other than its validation
/// error, say) into a logged error and a 500 in the client's protocol, instead of an empty 500 or a dropped
/// connection. Bad input never gets here: it is refused as a 400 where it is found.
/// </summary>
internal sealed partial class FaultBarrierMiddleware(RequestDelegate next, ILogger<FaultBarrierMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            var request = context.GetGatewayRequest();
            GatewayLog.RequestFailed(logger, request.Endpoint.Id, e);
            if (context.Response.HasStarted)
            {
                throw; // the status is out: all that is left is to end the connection
            }

            context.Response.Clear();
            await ClientErrors.WriteAsync(context, request.Api, new ClientError(500, "The gateway failed while handling this request; the failure is logged.")).ConfigureAwait(false);
        }
    }
}
