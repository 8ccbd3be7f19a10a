using MixProxy.Proxy;
using MixProxy.Translation.Protocols;

namespace MixProxy.Auth;

/// <summary>Finds the request's client key in the config generation it started on; a missing or unknown key gets a 401.</summary>
internal sealed class ClientAuthenticationMiddleware(RequestDelegate next, ProtocolRegistry protocols)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();
        var (key, refusal) = ClientKeyAuthenticator.Authenticate(request.Head, protocols, request.Config);
        if (key is null)
        {
            return ClientErrors.WriteAsync(context, request.Api, refusal!);
        }

        request.Key = key;
        return next(context);
    }
}
