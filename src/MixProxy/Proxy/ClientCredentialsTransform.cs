using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Proxy;

/// <summary>Client credentials never travel upstream: every place any client protocol puts a key is cleared.</summary>
internal sealed class ClientCredentialsTransform(ProtocolRegistry protocols) : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var source in protocols.ClientCredentialSources)
        {
            if (source.Location == CredentialLocation.Header)
            {
                context.ProxyRequest.Headers.Remove(source.Name);
            }
            else
            {
                context.Query.Collection.Remove(source.Name);
            }
        }

        return ValueTask.CompletedTask;
    }
}
