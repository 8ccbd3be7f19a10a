using MixProxy.Proxy;
using MixProxy.Translation.Protocols;

namespace MixProxy.Auth;

/// <summary>Finds the request's client key in the config generation it started on; a missing or unknown key gets a 401.</summary>
internal sealed class ClientAuthenticationMiddleware(RequestDelegate next, ProtocolRegistry protocols)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();
        var presented = ClientKeyAuthenticator.ReadPresentedKey(request.Head, protocols);
        if (ClientKeyAuthenticator.Authenticate(presented, request.Config) is not { } key)
        {
            var message = presented is null ? $"Missing API key: send it as {protocols.DescribeClientCredentials()}." : "Invalid API key.";
            return ClientErrors.WriteAsync(context, request.Api, new ClientError(401, message, Kind: ClientErrorKind.InvalidKey));
        }

        request.Key = key;
        return next(context);
    }
}
