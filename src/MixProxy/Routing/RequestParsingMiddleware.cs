using MixProxy.Proxy;

namespace MixProxy.Routing;

/// <summary>
/// Parses the request once, through its client API. The body is read here when the model is in it, when the key's
/// token limits need its size and output cap, or when the response cache keys on it; otherwise a body whose model is
/// in the URL is left for the exchange to want (a passthrough streams it on untouched). The parsed body is let go
/// when the request ends at the latest; the upstream body transform lets go of it as soon as the upstream request is sent.
/// </summary>
internal sealed class RequestParsingMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();
        var withBody = request.Endpoint.ModelInBody || request.Key.Limits.HasTokenLimits || request.WantsCache;
        if (!await ClientRequestReader.TryReadAsync(context, request, withBody).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            request.Request.ReleaseBody();
        }
    }
}
