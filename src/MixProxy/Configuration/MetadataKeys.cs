namespace MixProxy.Configuration;

/// <summary>The route and cluster metadata keys MixProxy reads from YARP's config schema.</summary>
internal static class MetadataKeys
{
    /// <summary>Route: which client API operation the route serves (an endpoint id of the protocol registry, such as <c>OpenAIChat</c>).</summary>
    public const string Api = "MixProxy.Api";

    /// <summary>Route: "false" turns off the provider page's <c>output.text</c> field on non-streaming responses.</summary>
    public const string OutputText = "MixProxy.OutputText";

    /// <summary>Route: "true" caches successful responses on this route (clients may still opt out per request).</summary>
    public const string Cache = "MixProxy.Cache";

    /// <summary>Route: how long cached responses live (a TimeSpan, default 5 minutes).</summary>
    public const string CacheTtl = "MixProxy.CacheTtl";

    /// <summary>Cluster: how the gateway authenticates upstream: <c>Bearer</c>, <c>GoogApiKey</c> or <c>None</c>.</summary>
    public const string UpstreamAuth = "MixProxy.UpstreamAuth";

    /// <summary>Cluster or destination: the environment variable that holds the upstream credential (a destination's overrides its cluster's).</summary>
    public const string CredentialEnv = "MixProxy.CredentialEnv";

    /// <summary>
    /// Cluster: which spellings of its protocol the upstream takes: <c>Lenient</c> (the default: the provider page's
    /// too) or <c>Strict</c> (the protocol's published reference only, as the reference service itself).
    /// </summary>
    public const string UpstreamDialect = "MixProxy.UpstreamDialect";

    /// <summary>Cluster: extra client request headers this upstream may receive (comma-separated; a trailing <c>*</c> matches a prefix).</summary>
    public const string ForwardHeaders = "MixProxy.ForwardHeaders";

    /// <summary>Destination: its share of its tier's traffic (a positive whole number, default 1).</summary>
    public const string Weight = "MixProxy.Weight";

    /// <summary>Destination: its priority tier (0, the default, first; a higher tier only while every lower one is unavailable).</summary>
    public const string Priority = "MixProxy.Priority";

    /// <summary>Destination: the quota group it shares an upstream quota with (one 429 cools the whole group).</summary>
    public const string QuotaGroup = "MixProxy.QuotaGroup";

    /// <summary>Cluster, written by the gateway from <c>Resilience.Timeouts.Connect</c> for its HTTP client factory.</summary>
    public const string ConnectTimeout = "MixProxy.ConnectTimeout";
}
