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

    /// <summary>Cluster: the environment variable that holds the upstream credential.</summary>
    public const string CredentialEnv = "MixProxy.CredentialEnv";

    /// <summary>Cluster: extra client request headers this upstream may receive (comma-separated; a trailing <c>*</c> matches a prefix).</summary>
    public const string ForwardHeaders = "MixProxy.ForwardHeaders";
}
