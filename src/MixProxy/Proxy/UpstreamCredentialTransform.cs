using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Proxy;

/// <summary>The cluster's own credential, from the environment, where its protocol takes it (a header, or the query).</summary>
internal sealed class UpstreamCredentialTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.GetGatewayRequest();
        if (request.Config.Credentials.GetValueOrDefault(request.Model.ClusterId) is { Source: { } source, Secret: { } secret })
        {
            if (source.Location == CredentialLocation.Header)
            {
                context.ProxyRequest.Headers.TryAddWithoutValidation(source.Name, source.Format(secret));
            }
            else
            {
                context.Query.Collection[source.Name] = secret;
            }
        }

        return ValueTask.CompletedTask;
    }
}
