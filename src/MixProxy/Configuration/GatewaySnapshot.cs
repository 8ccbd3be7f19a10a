using MixProxy.Auth;
using MixProxy.Routing;
using MixProxy.Upstreams;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy.Configuration;

namespace MixProxy.Configuration;

/// <summary>
/// How the gateway authenticates to one upstream destination: where its key goes (a protocol's credential source) and the
/// secret, which comes from the environment, never the file. <see cref="Source"/> is null for an open upstream.
/// </summary>
internal sealed record UpstreamCredential(CredentialSource? Source, string? Secret)
{
    public static UpstreamCredential None { get; } = new(null, null);
}

/// <summary>
/// Which client request headers reach an upstream. Upstreams are third parties: cookies, client SDK telemetry,
/// <c>x-goog-user-project</c> (quota and billing on Google Cloud) and the like stay at the gateway unless a
/// cluster lists them.
/// </summary>
internal sealed class HeaderAllowList
{
    private static readonly HashSet<string> Always = new(StringComparer.OrdinalIgnoreCase)
    {
        "Accept", "Accept-Encoding", "Content-Type", "Content-Length", "User-Agent", "traceparent", "tracestate", "baggage",
    };

    private readonly HashSet<string> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _prefixes = [];

    public HeaderAllowList(string? extra)
    {
        foreach (var item in (extra ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (item.EndsWith('*'))
            {
                _prefixes.Add(item[..^1]);
            }
            else
            {
                _exact.Add(item);
            }
        }
    }

    public static HeaderAllowList Default { get; } = new(null);

    public bool Allows(string header) =>
        Always.Contains(header) || _exact.Contains(header) || _prefixes.Exists(p => header.StartsWith(p, StringComparison.OrdinalIgnoreCase));
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
    IReadOnlyDictionary<string, UpstreamCluster> Upstreams,
    ModelMap Models,
    IReadOnlyDictionary<string, ClientKey> KeysByHash);
