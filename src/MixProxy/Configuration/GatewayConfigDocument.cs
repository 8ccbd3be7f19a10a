using System.Text.Json;
using System.Text.Json.Serialization;
using Yarp.ReverseProxy.Configuration;

namespace MixProxy.Configuration;

/// <summary>
/// The shape of <c>config/proxy.json</c> as written by operators: YARP's own route and cluster schema under
/// <c>ReverseProxy</c>, plus the model map and the client keys. Validated into a <see cref="GatewaySnapshot"/>.
/// </summary>
internal sealed class GatewayConfigDocument
{
    public ReverseProxyDocument? ReverseProxy { get; set; }

    public List<ModelDocument>? Models { get; set; }

    public List<KeyDocument>? Keys { get; set; }
}

internal sealed class ReverseProxyDocument
{
    public Dictionary<string, RouteConfig>? Routes { get; set; }

    /// <summary>YARP's cluster schema plus MixProxy's <c>Resilience</c> section; read twice, once as each.</summary>
    public Dictionary<string, JsonElement>? Clusters { get; set; }
}

/// <summary>What MixProxy adds to a YARP cluster object (YARP's own fields are read into its <see cref="ClusterConfig"/>).</summary>
internal sealed class ClusterExtensionsDocument
{
    public ResilienceDocument? Resilience { get; set; }
}

/// <summary>A cluster's retries, cooldowns and timeouts; every field optional (see <c>Upstreams.ResilienceSettings</c> for the defaults).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class ResilienceDocument
{
    public RetriesDocument? Retries { get; set; }

    public CooldownDocument? Cooldown { get; set; }

    public TimeoutsDocument? Timeouts { get; set; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class RetriesDocument
{
    public int? Count { get; set; }

    public TimeSpan? Budget { get; set; }

    public TimeSpan? Backoff { get; set; }

    public TimeSpan? MaxBackoff { get; set; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class CooldownDocument
{
    public TimeSpan? Quota { get; set; }

    public TimeSpan? MaxQuota { get; set; }

    public int? FailureThreshold { get; set; }

    public TimeSpan? Failure { get; set; }

    public TimeSpan? MaxFailure { get; set; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class TimeoutsDocument
{
    public TimeSpan? Connect { get; set; }

    public TimeSpan? FirstByte { get; set; }

    public TimeSpan? Idle { get; set; }

    public TimeSpan? Total { get; set; }
}

/// <summary>One model-map entry: a client-facing name (or <c>*</c> pattern) and where it is served.</summary>
internal sealed class ModelDocument
{
    public string? Name { get; set; }

    public string? Cluster { get; set; }

    /// <summary>Protocols the upstream speaks for this model, preferred first. A client whose protocol is listed is passed through untranslated.</summary>
    public List<string>? Protocols { get; set; }

    /// <summary>Exact model names tried in order when this model's own destinations are all unavailable or failing.</summary>
    public List<string>? Fallbacks { get; set; }

    /// <summary>Name sent upstream; defaults to the name the client used.</summary>
    public string? UpstreamModel { get; set; }

    public ThinkingDocument? Thinking { get; set; }

    /// <summary>False for models that reject presence/frequency penalties.</summary>
    public bool? Penalties { get; set; }

    /// <summary>False for models that take only Gemini's OpenAPI schema subset: tool and response schemas are converted.</summary>
    public bool? JsonSchema { get; set; }

    /// <summary>Per-part <c>mediaResolution</c> (image <c>detail</c>); defaults to true for level-thinking (Gemini 3) models.</summary>
    public bool? MediaResolution { get; set; }

    /// <summary>Google Search and function tools in one request; defaults to true for level-thinking (Gemini 3) models.</summary>
    public bool? SearchWithFunctions { get; set; }

    /// <summary>True when the upstream takes ids on functionCall/functionResponse parts; defaults to false.</summary>
    public bool? FunctionCallIds { get; set; }

    /// <summary>The most alternatives per token the model returns (<c>top_logprobs</c> is clamped to it).</summary>
    public int? MaxTopLogprobs { get; set; }

    /// <summary>Refuse request fields the upstream has no place for instead of dropping and reporting them; defaults to false.</summary>
    public bool? StrictTranslation { get; set; }
}

internal sealed class ThinkingDocument
{
    /// <summary><c>None</c>, <c>Level</c> (Gemini 3) or <c>Budget</c> (Gemini 2.5).</summary>
    public string? Style { get; set; }

    public List<string>? Levels { get; set; }

    public int? MinBudget { get; set; }

    public int? MaxBudget { get; set; }
}

/// <summary>A client key: only its hash is stored (<c>sha256:&lt;hex&gt;</c>, printed by <c>mixproxy hash-key</c>).</summary>
internal sealed class KeyDocument
{
    public string? Name { get; set; }

    public string? Hash { get; set; }

    /// <summary>Model names or patterns this key may use; <c>*</c> for all. Required.</summary>
    public List<string>? Models { get; set; }

    public LimitsDocument? Limits { get; set; }

    /// <summary>Response cache sharing: <c>Private</c> (default), <c>Shared</c> with other Shared keys, or <c>Off</c>.</summary>
    public string? Cache { get; set; }
}

/// <summary>A key's limits; every field is optional (absent = unlimited).</summary>
internal sealed class LimitsDocument
{
    public long? RequestsPerMinute { get; set; }

    public long? TokensPerMinute { get; set; }

    /// <summary>Requests of this key in flight at once, across all replicas (key-wide only).</summary>
    public int? ConcurrentRequests { get; set; }

    /// <summary>Tighter limits for particular models (name or <c>*</c> pattern → limits), checked in file order.</summary>
    public Dictionary<string, LimitsDocument>? Models { get; set; }
}
