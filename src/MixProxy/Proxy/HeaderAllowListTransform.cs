using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Proxy;

/// <summary>
/// Upstreams are third parties: of the client's request headers only those the cluster allows reach them
/// (<see cref="Configuration.HeaderAllowList"/>; cookies, SDK telemetry and billing headers stay at the gateway).
/// </summary>
internal sealed class HeaderAllowListTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.GetGatewayRequest();
        var headers = context.ProxyRequest.Headers;
        var allowed = request.Attempts.Plan.Cluster.ForwardHeaders;

        // NonValidated: only the names are needed, so no header value is parsed just to be looked at.
        List<string>? refused = null;
        foreach (var header in headers.NonValidated)
        {
            if (!allowed.Allows(header.Key))
            {
                (refused ??= []).Add(header.Key);
            }
        }

        foreach (var header in refused ?? [])
        {
            headers.Remove(header);
        }

        return ValueTask.CompletedTask;
    }
}
