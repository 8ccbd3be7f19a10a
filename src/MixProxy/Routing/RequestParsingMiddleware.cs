using MixProxy.Proxy;

namespace MixProxy.Routing;

/// <summary>
/// Parses the request once, through its client API. The body is read here when the model is in it, when the key's
/// token limits need its size and output cap, or when the response cache keys on it; otherwise a body whose model is
/// in the URL is left for the exchange to want (a passthrough streams it on untouched).
/// </summary>
internal sealed class RequestParsingMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();
        var withBody = request.Endpoint.ModelInBody || request.Key.Limits.HasTokenLimits || request.WantsCache;
        return ClientRequestReader.ThenAsync(ClientRequestReader.TryReadAsync(context, request, withBody), next, context);
    }
}
