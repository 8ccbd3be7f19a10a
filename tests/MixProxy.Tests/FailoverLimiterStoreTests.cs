using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MixProxy.RateLimiting;
using MixProxy.Telemetry;

namespace MixProxy.Tests;

/// <summary>
/// When Redis is slow or gone, the limiter falls back to this process's memory within the Redis timeout, stops asking
/// Redis (a circuit breaker) until one background probe finds it answering again, and cleans up after itself: a
/// concurrency slot that a late admit script may still have taken is given back, and a settlement that timed out is
/// sent again. A store that stalls on cue stands in for Redis and a fake clock drives the timeouts, so these run the
/// same everywhere; what they count is calls to the store, never elapsed time.
/// </summary>
// The gateway's meters are matched by name process-wide; recording here must not land in the metrics tests' counts.
[Collection(nameof(MetricsTests))]
public sealed class FailoverLimiterStoreTests
{
    private static readonly TimeSpan RedisTimeout = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Admit_RedisAnswersAfterTheTimeout_FallsBackThenGivesTheConcurrencySlotBack()
    {
        // The admit script does run, later: it has taken a concurrency slot nobody will release.
        var shared = new ScriptedStore { AdmitStalls = true };
        using var store = Failover(shared, RedisFailureMode.Open);
        var request = Request("late");

        var (result, usedStore) = await TimeOutAsync(store.AdmitAsync(request, TestContext.Current.CancellationToken));

        Assert.True(result.Allowed);
        Assert.True(result.Degraded);
        Assert.IsType<InMemoryLimiterStore>(usedStore);
        Assert.True(store.Degraded);
        _time.Advance(RedisTimeout);
        var compensation = await shared.NextSettlement.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Same(request, compensation.Admission);
        Assert.Equal(0, compensation.TokenDelta);
    }

    [Fact]
    public async Task Admit_RedisTimesOutInClosedMode_RefusesAndStillGivesTheSlotBack()
    {
        var shared = new ScriptedStore { AdmitStalls = true };
        using var store = Failover(shared, RedisFailureMode.Closed);
        var request = Request("closed");

        var (result, _) = await TimeOutAsync(store.AdmitAsync(request, TestContext.Current.CancellationToken));

        Assert.False(result.Allowed);
        Assert.True(result.Degraded);
        _time.Advance(RedisTimeout);
        Assert.Same(request, (await shared.NextSettlement.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Admission);
    }

    [Fact]
    public async Task Admit_RedisDisconnected_IsNotAskedAtAll()
    {
        var shared = new ScriptedStore { Connected = false };
        using var store = Failover(shared, RedisFailureMode.Open);

        var (result, usedStore) = await store.AdmitAsync(Request("offline"), TestContext.Current.CancellationToken);

        Assert.True(result.Allowed);
        Assert.True(result.Degraded);
        Assert.IsType<InMemoryLimiterStore>(usedStore);
        Assert.Equal(0, shared.AdmitCalls);
    }

    [Fact]
    public async Task Admit_AfterOneTimeout_TheNextRequestsGoStraightToTheFallbackWithoutAskingRedis()
    {
        var shared = new ScriptedStore { AdmitStalls = true };
        using var store = Failover(shared, RedisFailureMode.Open);
        await TimeOutAsync(store.AdmitAsync(Request("first"), TestContext.Current.CancellationToken));

        var next = Enumerable.Range(0, 5).Select(i => store.AdmitAsync(Request($"next-{i}"), TestContext.Current.CancellationToken)).ToList();

        // Completed without the clock moving: none of them waited for the hung store.
        Assert.All(next, admission => Assert.True(admission.IsCompletedSuccessfully));
        var results = await Task.WhenAll(next);
        Assert.All(results, admission => Assert.True(admission.Result.Allowed && admission.Result.Degraded));
        Assert.All(results, admission => Assert.IsType<InMemoryLimiterStore>(admission.Store));
        Assert.Equal(1, shared.AdmitCalls);
    }

    [Fact]
    public async Task Admit_AfterOneTimeoutInClosedMode_TheNextRequestsAreRefusedAtOnce()
    {
        var shared = new ScriptedStore { AdmitStalls = true };
        using var store = Failover(shared, RedisFailureMode.Closed);
        await TimeOutAsync(store.AdmitAsync(Request("first"), TestContext.Current.CancellationToken));

        var next = store.AdmitAsync(Request("second"), TestContext.Current.CancellationToken);

        Assert.True(next.IsCompletedSuccessfully);
        var (refusal, _) = await next;
        Assert.False(refusal.Allowed);
        Assert.Null(refusal.DeniedBy);
        Assert.Equal(1, shared.AdmitCalls);
    }

    [Fact]
    public async Task Breaker_AfterTheBreak_OneProbeThatAnswersClosesIt_AndRequestsUseRedisAgain()
    {
        var shared = new ScriptedStore { AdmitStalls = true };
        using var store = Failover(shared, RedisFailureMode.Open);
        await TimeOutAsync(store.AdmitAsync(Request("first"), TestContext.Current.CancellationToken));
        shared.AdmitStalls = false;

        _time.Advance(BreakDuration - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, shared.ProbeCalls);
        Assert.True(store.Degraded);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, shared.ProbeCalls);
        Assert.False(store.Degraded);

        var (result, usedStore) = await store.AdmitAsync(Request("second"), TestContext.Current.CancellationToken);
        Assert.Same(shared, usedStore);
        Assert.False(result.Degraded);
        Assert.Equal(2, shared.AdmitCalls);

        // Closed again: no more probes.
        _time.Advance(BreakDuration * 5);
        Assert.Equal(1, shared.ProbeCalls);
    }

    [Fact]
    public async Task Breaker_ProbeHangs_StaysOpenWithOneProbeAtATime_ThenClosesWhenRedisAnswers()
    {
        var shared = new ScriptedStore { AdmitStalls = true, ProbeStalls = true };
        using var store = Failover(shared, RedisFailureMode.Open);
        await TimeOutAsync(store.AdmitAsync(Request("first"), TestContext.Current.CancellationToken));

        _time.Advance(BreakDuration);
        store.ConnectionRestored();
        store.ConnectionRestored();
        Assert.Equal(1, shared.ProbeCalls);

        _time.Advance(RedisTimeout);
        Assert.True(store.Degraded);
        await store.AdmitAsync(Request("during"), TestContext.Current.CancellationToken);
        Assert.Equal(1, shared.AdmitCalls);

        shared.ProbeStalls = false;
        _time.Advance(BreakDuration);
        Assert.Equal(2, shared.ProbeCalls);
        Assert.False(store.Degraded);
    }

    [Fact]
    public void Breaker_ConnectionLostAndRestored_MovesWithoutAnyRequest()
    {
        var shared = new ScriptedStore();
        using var store = Failover(shared, RedisFailureMode.Open);
        Assert.False(store.Degraded);

        shared.Connected = false;
        store.ConnectionLost("SocketFailure");
        Assert.True(store.Degraded);

        // Ticks while disconnected do not even ping.
        _time.Advance(BreakDuration * 3);
        Assert.Equal(0, shared.ProbeCalls);
        Assert.True(store.Degraded);

        shared.Connected = true;
        store.ConnectionRestored();

        Assert.Equal(1, shared.ProbeCalls);
        Assert.False(store.Degraded);
        Assert.Equal(0, shared.AdmitCalls);
    }

    [Fact]
    public void Breaker_StartedWhileRedisIsAway_IsDegradedBeforeItsFirstRequest()
    {
        var shared = new ScriptedStore { Connected = false };
        using var store = Failover(shared, RedisFailureMode.Open);

        Assert.True(store.Degraded);

        shared.Connected = true;
        _time.Advance(BreakDuration);
        Assert.False(store.Degraded);
    }

    [Fact]
    public async Task Settle_RedisStallsOnce_IsSentAgainInTheBackground()
    {
        var shared = new ScriptedStore { StallFirstSettle = true };
        using var store = Failover(shared, RedisFailureMode.Open);
        var settlement = new Settlement(Request("settle"), -120);

        var settling = store.SettleAsync(shared, settlement, TestContext.Current.CancellationToken);
        _time.Advance(RedisTimeout);
        await settling;

        Assert.True(store.Degraded);
        _time.Advance(RedisTimeout);
        var retried = await shared.NextSettlement.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.Same(settlement, retried);
        Assert.Equal(2, shared.SettleCalls);
    }

    [Fact]
    public async Task Settle_WhileTheBreakerIsOpen_DoesNotWaitForRedis_AndIsSentInTheBackground()
    {
        var shared = new ScriptedStore { AdmitStalls = true };
        using var store = Failover(shared, RedisFailureMode.Open);
        await TimeOutAsync(store.AdmitAsync(Request("trip"), TestContext.Current.CancellationToken));
        _time.Advance(RedisTimeout);
        await shared.NextSettlement.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken); // the compensation
        var settlement = new Settlement(Request("admitted-by-redis-before"), 30);

        var settling = store.SettleAsync(shared, settlement, TestContext.Current.CancellationToken);

        Assert.True(settling.IsCompletedSuccessfully);
        Assert.Equal(1, shared.SettleCalls);
        _time.Advance(RedisTimeout);
        Assert.Same(settlement, await shared.NextSettlement.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Options_BreakDurationOutOfRange_IsRefusedNamingIt()
    {
        var result = new RateLimitingOptionsValidator().Validate(null, new RateLimitingOptions { RedisBreakDuration = TimeSpan.FromMinutes(5) });

        Assert.True(result.Failed);
        Assert.Contains(nameof(RateLimitingOptions.RedisBreakDuration), result.FailureMessage, StringComparison.Ordinal);
    }

    /// <summary>Moves the clock past the Redis timeout while <paramref name="admission"/> waits on a stalled store.</summary>
    private async Task<(AdmissionResult Result, ILimiterStore Store)> TimeOutAsync(Task<(AdmissionResult Result, ILimiterStore Store)> admission)
    {
        Assert.False(admission.IsCompleted);
        _time.Advance(RedisTimeout);
        return await admission.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
    }

    private FailoverLimiterStore Failover(ScriptedStore shared, RedisFailureMode mode)
    {
        var options = new RateLimitingOptions { RedisTimeout = RedisTimeout, RedisBreakDuration = BreakDuration, FailureMode = mode };
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return new FailoverLimiterStore(shared, new InMemoryLimiterStore(TimeProvider.System), options, _time, new GatewayMetrics(meters), NullLogger<FailoverLimiterStore>.Instance);
    }

    private static AdmissionRequest Request(string id) =>
        new("key-hash", [new RateCharge($"rpm:{id}", LimitKind.Requests, 100, 1)], $"conc:{id}", 100, id, null, 0);

    /// <summary>A shared store that stalls on cue (like a frozen Redis), counts every call and records every settlement.</summary>
    private sealed class ScriptedStore : ISharedLimiterStore
    {
        private readonly Channel<Settlement> _settled = Channel.CreateUnbounded<Settlement>();
        private int _admitCalls;
        private int _settleCalls;
        private int _probeCalls;

        public bool Connected { get; set; } = true;

        public bool AdmitStalls { get; set; }

        public bool ProbeStalls { get; set; }

        public bool StallFirstSettle { get; init; }

        public int AdmitCalls => Volatile.Read(ref _admitCalls);

        public int SettleCalls => Volatile.Read(ref _settleCalls);

        public int ProbeCalls => Volatile.Read(ref _probeCalls);

        public bool IsConnected => Connected;

        /// <summary>The next settlement that reached the store (a successful one).</summary>
        public Task<Settlement> NextSettlement => _settled.Reader.ReadAsync().AsTask();

        public Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _admitCalls);

            // Like a script on a stalled server: it never answers this caller, whose own timeout must give up.
            return AdmitStalls
                ? new TaskCompletionSource<AdmissionResult>().Task
                : Task.FromResult(new AdmissionResult(true, null, TimeSpan.Zero, [], Degraded: false));
        }

        public async Task SettleAsync(Settlement settlement, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _settleCalls) == 1 && StallFirstSettle)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }

            _settled.Writer.TryWrite(settlement);
        }

        public Task ProbeAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _probeCalls);
            return ProbeStalls ? new TaskCompletionSource().Task : Task.CompletedTask;
        }
    }
}
