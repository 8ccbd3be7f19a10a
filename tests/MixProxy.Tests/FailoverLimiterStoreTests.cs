using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MixProxy.RateLimiting;
using MixProxy.Telemetry;

namespace MixProxy.Tests;

/// <summary>
/// When Redis is slow or gone, the limiter falls back to this process's memory within the Redis timeout, and
/// cleans up after itself: a concurrency slot that a late admit script may still have taken is given back, and a
/// settlement that timed out is sent again. A store that stalls on cue stands in for Redis, so these run the same
/// everywhere (a real Redis reconnects during a stall, which made the same check nondeterministic).
/// </summary>
// The gateway's meters are matched by name process-wide; recording here must not land in the metrics tests' counts.
[Collection(nameof(MetricsTests))]
public sealed class FailoverLimiterStoreTests
{
    private static readonly TimeSpan RedisTimeout = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task Admit_RedisAnswersAfterTheTimeout_FallsBackThenGivesTheConcurrencySlotBack()
    {
        // The admit script does run, 300 ms later: it has taken a concurrency slot nobody will release.
        var shared = new ScriptedStore { AdmitDelay = TimeSpan.FromMilliseconds(300) };
        var store = Failover(shared, RedisFailureMode.Open);
        var request = Request("late");

        var (result, usedStore) = await store.AdmitAsync(request, TestContext.Current.CancellationToken);

        Assert.True(result.Allowed);
        Assert.True(result.Degraded);
        Assert.IsType<InMemoryLimiterStore>(usedStore);
        Assert.True(store.Degraded);
        var compensation = await shared.NextSettlement.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Same(request, compensation.Admission);
        Assert.Equal(0, compensation.TokenDelta);
    }

    [Fact]
    public async Task Admit_RedisTimesOutInClosedMode_RefusesAndStillGivesTheSlotBack()
    {
        var shared = new ScriptedStore { AdmitDelay = TimeSpan.FromMilliseconds(300) };
        var store = Failover(shared, RedisFailureMode.Closed);
        var request = Request("closed");

        var (result, _) = await store.AdmitAsync(request, TestContext.Current.CancellationToken);

        Assert.False(result.Allowed);
        Assert.True(result.Degraded);
        Assert.Same(request, (await shared.NextSettlement.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Admission);
    }

    [Fact]
    public async Task Admit_RedisDisconnected_IsNotAskedAtAll()
    {
        var shared = new ScriptedStore();
        var store = Failover(shared, RedisFailureMode.Open, connected: false);

        var (result, usedStore) = await store.AdmitAsync(Request("offline"), TestContext.Current.CancellationToken);

        Assert.True(result.Allowed);
        Assert.True(result.Degraded);
        Assert.IsType<InMemoryLimiterStore>(usedStore);
        Assert.Equal(0, shared.AdmitCalls);
    }

    [Fact]
    public async Task Admit_RedisAnswersInTime_UsesRedisAndLeavesDegradedMode()
    {
        var shared = new ScriptedStore { AdmitDelay = TimeSpan.FromMilliseconds(300) };
        var store = Failover(shared, RedisFailureMode.Open);
        await store.AdmitAsync(Request("first"), TestContext.Current.CancellationToken);
        Assert.True(store.Degraded);

        shared.AdmitDelay = TimeSpan.Zero;
        var (result, usedStore) = await store.AdmitAsync(Request("second"), TestContext.Current.CancellationToken);

        Assert.Same(shared, usedStore);
        Assert.False(result.Degraded);
        Assert.False(store.Degraded);
    }

    [Fact]
    public async Task Settle_RedisStallsOnce_IsSentAgainInTheBackground()
    {
        var shared = new ScriptedStore { StallFirstSettle = true };
        var store = Failover(shared, RedisFailureMode.Open);
        var settlement = new Settlement(Request("settle"), -120);

        await store.SettleAsync(shared, settlement, TestContext.Current.CancellationToken);

        Assert.True(store.Degraded);
        var retried = await shared.NextSettlement.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Same(settlement, retried);
        Assert.Equal(2, shared.SettleCalls);
    }

    private static FailoverLimiterStore Failover(ScriptedStore shared, RedisFailureMode mode, bool connected = true)
    {
        var options = new RateLimitingOptions { RedisTimeout = RedisTimeout, FailureMode = mode };
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return new FailoverLimiterStore(() => connected, shared, new InMemoryLimiterStore(TimeProvider.System), options, new GatewayMetrics(meters), NullLogger<FailoverLimiterStore>.Instance);
    }

    private static AdmissionRequest Request(string id) =>
        new("key-hash", [new RateCharge($"rpm:{id}", LimitKind.Requests, 100, 1)], $"conc:{id}", 4, id, null, 0);

    /// <summary>A shared store that answers admissions after a set delay and records every settlement.</summary>
    private sealed class ScriptedStore : ILimiterStore
    {
        private readonly Channel<Settlement> _settled = Channel.CreateUnbounded<Settlement>();
        private int _admitCalls;
        private int _settleCalls;

        public TimeSpan AdmitDelay { get; set; }

        public bool StallFirstSettle { get; init; }

        public int AdmitCalls => Volatile.Read(ref _admitCalls);

        public int SettleCalls => Volatile.Read(ref _settleCalls);

        /// <summary>The next settlement that reached the store (a successful one).</summary>
        public Task<Settlement> NextSettlement => _settled.Reader.ReadAsync().AsTask();

        public async Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _admitCalls);
            if (AdmitDelay > TimeSpan.Zero)
            {
                // Like a script that runs on a stalled server: the caller's timeout does not stop it.
                await Task.Delay(AdmitDelay, CancellationToken.None);
            }

            return new AdmissionResult(true, null, TimeSpan.Zero, [], Degraded: false);
        }

        public async Task SettleAsync(Settlement settlement, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _settleCalls) == 1 && StallFirstSettle)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }

            _settled.Writer.TryWrite(settlement);
        }
    }
}
