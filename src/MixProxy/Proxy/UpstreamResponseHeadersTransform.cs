using Microsoft.Net.Http.Headers;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Proxy;

/// <summary>
/// Keeps what an upstream says about itself, and the gateway's own secrets, away from clients: an upstream's cookies
/// are for the gateway (a client holding them could not use them, and they may identify the gateway's account), a
/// header named like a credential is one an upstream only sends back by echoing the request, and a header whose value
/// holds the destination's secret would hand the client the gateway's key.
/// </summary>
internal sealed class UpstreamResponseHeadersTransform(ProtocolRegistry protocols) : ResponseTransform
{
    // Every place a protocol puts a key, the clients' and the upstreams', plus HTTP's own.
    private readonly string[] _credentialHeaders =
    [
        .. protocols.ClientCredentialSources.Concat(protocols.UpstreamCredentials.Values)
            .Where(source => source.Location == CredentialLocation.Header)
            .Select(source => source.Name)
            .Distinct(StringComparer.OrdinalIgnoreCase),
        HeaderNames.ProxyAuthorization,
        HeaderNames.SetCookie,
        HeaderNames.Cookie,
    ];

    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse is null)
        {
            return ValueTask.CompletedTask;
        }

        var headers = context.HttpContext.Response.Headers;
        foreach (var name in _credentialHeaders)
        {
            headers.Remove(name);
        }

        if (context.HttpContext.GetGatewayRequest().Attempts.Destination?.Credential.Secret is { Length: > 0 } secret)
        {
            List<string>? echoing = null;
            foreach (var (name, values) in headers)
            {
                foreach (var value in values)
                {
                    if (value is not null && value.Contains(secret, StringComparison.Ordinal))
                    {
                        (echoing ??= []).Add(name);
                        break;
                    }
                }
            }

            foreach (var name in echoing ?? [])
            {
                headers.Remove(name);
            }
        }

        return ValueTask.CompletedTask;
    }
}
