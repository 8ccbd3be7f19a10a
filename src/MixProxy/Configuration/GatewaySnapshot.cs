using MixProxy.Auth;
using MixProxy.Routing;
using Yarp.ReverseProxy.Configuration;

namespace MixProxy.Configuration;

/// <summary>How the gateway authenticates to one upstream cluster. The secret comes from the environment, never the file.</summary>
internal sealed record UpstreamCredential(UpstreamAuthKind Kind, string? Secret);

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
    IReadOnlyDictionary<string, HeaderAllowList> ForwardHeaders,
    ModelMap Models,
    IReadOnlyDictionary<string, ClientKey> KeysByHash);
