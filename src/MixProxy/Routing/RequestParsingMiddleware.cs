using Microsoft.AspNetCore.Http.Features;
using MixProxy.Proxy;
using MixProxy.Translation.Protocols;

namespace MixProxy.Routing;

/// <summary>
/// Parses the request once, through its client API. The body is read here when the model is in it, when the key's
/// token limits need its size and output cap, or when the response cache keys on it; otherwise a body whose model is
/// in the URL is left for the exchange to want (every shipped exchange does, so that each body is checked before any
/// upstream call; routing then runs again, see <see cref="ModelRoutingMiddleware"/>).
/// </summary>
internal sealed class RequestParsingMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();

        // A body that says it is too large is refused now, whether or not it is read: left to the upstream call, it
        // would be cut mid-copy and reported as an upstream that could not be reached.
        if (context.Request.ContentLength is { } declared && context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } limit && declared > limit)
        {
            return ClientErrors.WriteAsync(context, request.Api, new ClientError(413, $"The request body ({declared} bytes) is larger than the {limit} bytes this gateway accepts."));
        }

        var withBody = request.Endpoint.ModelInBody || request.Key.Limits.HasTokenLimits || request.WantsCache;
        return ClientRequestReader.ThenAsync(ClientRequestReader.TryReadAsync(context, request, withBody), next, context);
    }
}
