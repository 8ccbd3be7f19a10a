using System.Security.Cryptography;
using System.Text;
using MixProxy.Configuration;
using MixProxy.Translation.Protocols;

namespace MixProxy.Upstreams;

/// <summary>
/// How a cluster copes with failing upstreams, from its <c>Resilience</c> section: retries, cooldowns and timeouts.
/// Validated once per config generation; the defaults are what a cluster without the section gets.
/// </summary>
internal sealed record ResilienceSettings
{
    public static ResilienceSettings Default { get; } = new();

    /// <summary>
    /// Extra attempts after a transient failure (connect failure, timeout, 500/502/503/504). A destination that takes
    /// itself out (429, or its key refused) hands over to the next without spending one: it can do so once per request.
    /// </summary>
    public int Retries { get; init; }

    /// <summary>No new attempt starts once this much time has passed since the first one began.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The first transient retry waits up to this long (full jitter); each further one up to twice as long.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A 429 that names no wait cools its destination (or quota group) this long, doubling on repeats.</summary>
    public TimeSpan QuotaCooldown { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxQuotaCooldown { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Consecutive transient failures that take a destination out.</summary>
    public int FailureThreshold { get; init; } = 3;

    /// <summary>How long a failing destination stays out, doubling on repeats.</summary>
    public TimeSpan FailureCooldown { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxFailureCooldown { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Time to open a connection to a destination; null keeps YARP's 15 s.</summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary>From sending the request to the first byte of the answer's body (a stream's first chunk); null for none.</summary>
    public TimeSpan? FirstByteTimeout { get; init; }

    /// <summary>The whole upstream call, all attempts included, to the last byte; null for none.</summary>
    public TimeSpan? TotalTimeout { get; init; }
}

/// <summary>
/// One destination of a cluster as the gateway uses it: its address, its own credential, and its place in the
/// rotation (priority tier, weight, quota group).
/// </summary>
internal sealed class UpstreamDestination
{
    public UpstreamDestination(string clusterId, string id, string address, UpstreamCredential credential, int weight, int priority, string? quotaGroup)
    {
        ClusterId = clusterId;
        Id = id;
        Address = address;
        Credential = credential;
        Weight = weight;
        Priority = priority;
        QuotaGroup = quotaGroup;
        Label = clusterId + "/" + id;

        // The destination's health is tied to what it is: a new address or a new key is a new destination, so a
        // key taken out as refused comes back when the config gives it another one.
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(address + "\n" + credential.Secret))).AsSpan(0, 12);
        HealthKey = $"d:{Label}#{fingerprint}";
        QuotaKey = quotaGroup is null ? HealthKey : "q:" + quotaGroup;
    }

    public string ClusterId { get; }

    public string Id { get; }

    public string Address { get; }

    public UpstreamCredential Credential { get; }

    /// <summary>Share of the traffic among the available destinations of its tier.</summary>
    public int Weight { get; }

    /// <summary>Tier: 0 first; a higher tier is used only while every lower one is unavailable.</summary>
    public int Priority { get; }

    /// <summary>Destinations that share one upstream quota (same project or key) cool down together on a 429.</summary>
    public string? QuotaGroup { get; }

    /// <summary><c>cluster/destination</c>, as metrics, logs and the <c>x-mixproxy-upstream</c> header name it.</summary>
    public string Label { get; }

    /// <summary>Where this destination's own cooldowns (failures, a refused key) are kept.</summary>
    public string HealthKey { get; }

    /// <summary>Where its quota cooldowns are kept: its quota group's, else its own.</summary>
    public string QuotaKey { get; }

    public override string ToString() => Label;
}

/// <summary>A cluster as the gateway uses it: its destinations in rotation order, its header allow-list and its resilience settings.</summary>
internal sealed class UpstreamCluster
{
    private readonly Dictionary<string, UpstreamDestination> _byId;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(Routing.ModelRoute Model, Translation.Protocols.Exchange Exchange), AttemptPlan> _firstPlans = new(ByReference.Instance);

    public UpstreamCluster(string id, IReadOnlyList<UpstreamDestination> destinations, HeaderAllowList forwardHeaders, ResilienceSettings resilience, UpstreamDialect dialect = UpstreamDialect.Lenient)
    {
        Dialect = dialect;
        Id = id;
        Destinations = [.. destinations.OrderBy(d => d.Priority)];
        _byId = destinations.ToDictionary(d => d.Id, StringComparer.OrdinalIgnoreCase);
        ForwardHeaders = forwardHeaders;
        Resilience = resilience;
        Weighted = destinations.Select(d => d.Weight).Distinct().Skip(1).Any();
    }

    public string Id { get; }

    /// <summary>By priority tier, then file order.</summary>
    public IReadOnlyList<UpstreamDestination> Destinations { get; }

    public HeaderAllowList ForwardHeaders { get; }

    public ResilienceSettings Resilience { get; }

    /// <summary>Which spellings of its protocol the upstream takes (<c>MixProxy.UpstreamDialect</c>), for the exchanges of the attempts that go here.</summary>
    public UpstreamDialect Dialect { get; }

    /// <summary>Weights differ: the gateway picks by weight; otherwise the cluster's load-balancing policy picks.</summary>
    public bool Weighted { get; }

    public UpstreamDestination? Find(string destinationId) => _byId.GetValueOrDefault(destinationId);

    /// <summary>
    /// The first attempt of a request for <paramref name="model"/> through <paramref name="exchange"/> when every
    /// destination is in rotation: the same plan for every such request, made once per config generation.
    /// </summary>
    public AttemptPlan FirstPlan(Routing.ModelRoute model, Translation.Protocols.Exchange exchange) =>
        _firstPlans.GetOrAdd((model, exchange), static (key, cluster) => new AttemptPlan(0, key.Model, cluster, cluster.Destinations, key.Exchange, Call: null, Settings: null, Retry: false), this);

    /// <summary>
    /// YARP's model of this cluster once it was found to be this generation's (see
    /// <see cref="UpstreamRouter.TryGetLiveCluster"/>): comparing configs is deep, so each model is compared once.
    /// </summary>
    public object? VerifiedModel { get; set; }

    /// <summary>Keys by identity: a model entry is a record, and hashing all its fields on every request would cost more than the plan saves.</summary>
    private sealed class ByReference : IEqualityComparer<(Routing.ModelRoute Model, Translation.Protocols.Exchange Exchange)>
    {
        public static readonly ByReference Instance = new();

        public bool Equals((Routing.ModelRoute Model, Translation.Protocols.Exchange Exchange) x, (Routing.ModelRoute Model, Translation.Protocols.Exchange Exchange) y) =>
            ReferenceEquals(x.Model, y.Model) && ReferenceEquals(x.Exchange, y.Exchange);

        public int GetHashCode((Routing.ModelRoute Model, Translation.Protocols.Exchange Exchange) key) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key.Model), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key.Exchange));
    }
}
