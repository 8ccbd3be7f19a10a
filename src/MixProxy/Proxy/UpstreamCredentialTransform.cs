using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Proxy;

/// <summary>
/// The chosen destination's own credential, from the environment, where its cluster's protocol takes it (a header, or
/// the query). It is the first transform to know which destination YARP's load balancer chose: it tells the attempts.
/// </summary>
internal sealed class UpstreamCredentialTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.GetGatewayRequest();
        var chosen = context.HttpContext.GetReverseProxyFeature().ProxiedDestination?.DestinationId;
        if (chosen is null || request.Attempts.Plan.Cluster.Find(chosen) is not { } destination)
        {
            throw new InvalidOperationException($"YARP chose destination '{chosen}', which cluster '{request.Attempts.Plan.Cluster.Id}' of this generation does not have.");
        }

        request.Attempts.Bind(destination);
        if (destination.Credential is { Source: { } source, Secret: { } secret })
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
