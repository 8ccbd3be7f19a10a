using MixProxy.Auth;
using MixProxy.Routing;
using Yarp.ReverseProxy.Configuration;

namespace MixProxy.Configuration;

/// <summary>How the gateway authenticates to one upstream cluster. The secret comes from the environment, never the file.</summary>
internal sealed record UpstreamCredential(UpstreamAuthKind Kind, string? Secret);

internal enum UpstreamAuthKind
{
    None,
    Bearer,
    GoogApiKey,
}

/// <summary>
/// One validated generation of the config file. Routes, clusters, model map and keys change together:
/// a request never sees a model map from one file version and clusters from another.
/// </summary>
internal sealed record GatewaySnapshot(
    long Generation,
    IReadOnlyList<RouteConfig> Routes,
    IReadOnlyList<ClusterConfig> Clusters,
    IReadOnlyDictionary<string, RouteSettings> RouteSettings,
    IReadOnlyDictionary<string, UpstreamCredential> Credentials,
    ModelMap Models,
    IReadOnlyDictionary<string, ClientKey> KeysByHash);
