using System.Diagnostics;
using MixProxy.Routing;
using MixProxy.Translation.Protocols;

namespace MixProxy.Upstreams;

/// <summary>How an attempt failed, as far as the destination's health and the request's next step are concerned.</summary>
internal enum AttemptFailure
{
    /// <summary>429: the destination's quota (or its group's) is spent for now.</summary>
    Quota,

    /// <summary>The upstream refused the gateway's key (401, 403, Google's API_KEY_INVALID).</summary>
    Credential,

    /// <summary>500, 502, 503 or 504 from the upstream.</summary>
    ServerError,

    /// <summary>No response: the connection failed or broke before the answer began.</summary>
    Unreachable,

    /// <summary>No first byte within the cluster's <c>FirstByte</c> timeout (or the call ran past <c>Total</c>).</summary>
    Timeout,
}

/// <summary>
/// Where the next attempt of a request goes: a model map entry (the model itself or one of its fallbacks), its
/// cluster, the destinations the load balancer may choose from, and the exchange and call to use there. The first
/// attempt's plan on a model's own destinations is the same for every request: its cluster keeps one per model and
/// exchange (see <see cref="UpstreamCluster.FirstPlan"/>).
/// </summary>
/// <param name="RouteIndex">0 for the model itself, n for its n-th fallback.</param>
/// <param name="Route">The model map entry (the model itself or the fallback).</param>
/// <param name="Cluster">The route's cluster.</param>
/// <param name="Destinations">The destinations YARP's load balancer may choose from (one, when chosen by weight).</param>
/// <param name="Exchange">The exchange for the client's protocol and this route's upstream protocols.</param>
/// <param name="Call">A freshly begun call; null keeps the request's current one (the first attempt on the model itself).</param>
/// <param name="Settings">The settings a fresh call was begun with; null keeps the request's.</param>
/// <param name="Retry">It goes back to a destination this request already tried (a backoff comes first).</param>
internal sealed record AttemptPlan(
    int RouteIndex,
    ModelRoute Route,
    UpstreamCluster Cluster,
    IReadOnlyList<UpstreamDestination> Destinations,
    Exchange Exchange,
    ExchangeCall? Call,
    ExchangeSettings? Settings,
    bool Retry);

/// <summary>
/// One request's way through its model's destinations and fallbacks: how many attempts it made, which destinations it
/// tried, what it may still do (retries, time budget), and the destination the current attempt went to. Each
/// destination gets one try for free; going back to one already tried spends a retry. So a request makes at most as
/// many upstream calls as its model and fallbacks have destinations, plus the retries: no storm.
/// </summary>
internal sealed class UpstreamAttempts(ModelRoute model, UpstreamCluster cluster)
{
    private List<UpstreamDestination>? _tried;
    private CancellationTokenSource? _attemptTimeout;
    private long _startedAt;

    /// <summary>The model the client asked for, whose fallbacks follow it.</summary>
    public ModelRoute Model { get; } = model;

    /// <summary>The retry policy and budgets: the model's own cluster's.</summary>
    public ResilienceSettings Policy { get; } = cluster.Resilience;

    /// <summary>Whether a second attempt is possible at all (then the body is kept to be sent again).</summary>
    public bool MayRetry { get; } = model.Fallbacks.Count > 0 || cluster.Destinations.Count > 1 || cluster.Resilience.Retries > 0;

    public int RetriesLeft { get; private set; } = cluster.Resilience.Retries;

    /// <summary>Attempts begun so far.</summary>
    public int Count { get; private set; }

    /// <summary>The plan of the current attempt (null before the first).</summary>
    public AttemptPlan? Current { get; private set; }

    /// <summary>The plan of the current attempt (only asked for once it began).</summary>
    public AttemptPlan Plan => Current ?? throw new InvalidOperationException("No attempt has begun.");

    /// <summary>The destination the current attempt went to, once the load balancer chose it.</summary>
    public UpstreamDestination? Destination { get; private set; }

    /// <summary>The next attempt, when the last one failed and another is possible.</summary>
    public AttemptPlan? Next { get; set; }

    /// <summary>How the current attempt failed, once its answer (or its lack of one) was judged; null while it has not.</summary>
    public AttemptFailure? LastFailure { get; set; }

    /// <summary>When the request gives up: the earliest moment a destination of the model or its fallbacks comes back.</summary>
    public TimeSpan? RetryAfter { get; set; }

    public bool OnFallback => Current is { RouteIndex: > 0 };

    public TimeSpan Elapsed => _startedAt == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_startedAt);

    /// <summary>Time left of the <c>Total</c> timeout; null when the cluster sets none.</summary>
    public TimeSpan? TotalRemaining => Policy.TotalTimeout is { } total ? total - Elapsed : null;

    public void Start(AttemptPlan plan)
    {
        if (_startedAt == 0)
        {
            _startedAt = Stopwatch.GetTimestamp();
        }

        if (plan.Retry)
        {
            RetriesLeft--;
        }

        Count++;
        LastFailure = null;
        Current = plan;
        Next = null;
        Destination = null;
    }

    /// <summary>The load balancer chose <paramref name="destination"/> (the credential transform learns it first).</summary>
    public void Bind(UpstreamDestination destination)
    {
        Destination = destination;
        if (MayRetry && !(_tried ??= []).Contains(destination))
        {
            _tried.Add(destination);
        }
    }

    public bool WasTried(UpstreamDestination destination) => _tried is not null && _tried.Contains(destination);

    /// <summary>The timer of the current attempt's first-byte and total timeouts (null when its cluster sets neither).</summary>
    public void Arm(CancellationTokenSource? timeout) => _attemptTimeout = timeout;

    /// <summary>The answer's first byte arrived: from now on only the total timeout applies.</summary>
    public void FirstByteArrived()
    {
        if (_attemptTimeout is { } timeout && Current?.Cluster.Resilience.FirstByteTimeout is not null)
        {
            try
            {
                timeout.CancelAfter(TotalRemaining is { } left ? Max(left, TimeSpan.FromMilliseconds(1)) : Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The attempt is over already.
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
