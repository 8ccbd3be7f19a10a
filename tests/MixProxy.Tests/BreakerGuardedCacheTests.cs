using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MixProxy.Caching;
using MixProxy.RateLimiting;
using MixProxy.State;
using MixProxy.Telemetry;

namespace MixProxy.Tests;

/// <summary>
/// The response cache, the signature memory and the stored results share Redis with the limiter, and now its circuit
/// breaker: while it is open none of them asks Redis (none waits out the Redis timeout against a hung server), and
/// each degrades as on any failure; a call of theirs that fails or times out opens it. What is counted is calls to the
/// store behind, never elapsed time.
/// </summary>
// The gateway's meters are matched by name process-wide; recording here must not land in the metrics tests' counts.
[Collection(nameof(MetricsTests))]
public sealed class BreakerGuardedCacheTests
{
    [Fact]
    public async Task BreakerOpen_NoCallReachesRedis_AndEachCallerDegradesAsOnAFailure()
    {
        using var breaker = Breaker(connected: false); // a replica that starts while Redis is away opens it
        var redis = new CountingCache();
        var guarded = new BreakerGuardedCache(redis, breaker);
        var metrics = Metrics();

        var cached = await new ResponseCache(guarded, NullLogger<ResponseCache>.Instance).GetAsync("k", TestContext.Current.CancellationToken);
        var stored = await new StoredResultStore(guarded, new StoredResultOptions(), metrics, NullLogger<StoredResultStore>.Instance).FindAsync("sha256:0123456789abcdef0123456789", "resp_1", TestContext.Current.CancellationToken);
        var recalled = await new ThoughtSignatureCache(guarded, NullLogger<ThoughtSignatureCache>.Instance).RecallAsync("sha256:0123456789abcdef0123456789", ["call_1"], TestContext.Current.CancellationToken);

        Assert.True(breaker.Degraded);
        Assert.Equal(0, redis.Calls);
        Assert.Null(cached);                 // a miss: the request goes upstream
        Assert.True(stored.Failed);          // not "not found": the client gets 503, not 404
        Assert.Empty(recalled.Items);        // the placeholder rule applies, as when the client lost the signature
        await Assert.ThrowsAsync<SharedStoreUnavailableException>(() => guarded.SetAsync("k", [1], new DistributedCacheEntryOptions(), TestContext.Current.CancellationToken));
        Assert.Equal(0, redis.Calls);
    }

    [Fact]
    public async Task ACallThatTimesOut_OpensTheBreaker_SoTheNextDoesNotWait()
    {
        using var breaker = Breaker(connected: true);
        var redis = new CountingCache { Fails = true };
        var guarded = new BreakerGuardedCache(redis, breaker);

        await Assert.ThrowsAsync<TimeoutException>(() => guarded.GetAsync("k", TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<SharedStoreUnavailableException>(() => guarded.GetAsync("k", TestContext.Current.CancellationToken));

        Assert.True(breaker.Degraded);
        Assert.Equal(1, redis.Calls);
    }

    [Fact]
    public async Task BreakerClosed_CallsPassThrough()
    {
        using var breaker = Breaker(connected: true);
        var redis = new CountingCache();
        var guarded = new BreakerGuardedCache(redis, breaker);

        await guarded.SetAsync("k", [42], new DistributedCacheEntryOptions(), TestContext.Current.CancellationToken);

        Assert.Equal([42], await guarded.GetAsync("k", TestContext.Current.CancellationToken));
        Assert.False(breaker.Degraded);
        Assert.Equal(2, redis.Calls);
    }

    private static GatewayMetrics Metrics() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());

    private static FailoverLimiterStore Breaker(bool connected) =>
        new(new IdleStore(connected), new InMemoryLimiterStore(TimeProvider.System), new RateLimitingOptions(), new FakeTimeProvider(), Metrics(), NullLogger<FailoverLimiterStore>.Instance);

    /// <summary>A limiter store that is only asked whether it is connected (and answers its probe).</summary>
    private sealed class IdleStore(bool connected) : ISharedLimiterStore
    {
        public bool IsConnected => connected;

        public Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken) => throw new InvalidOperationException("Not asked here.");

        public Task SettleAsync(Settlement settlement, CancellationToken cancellationToken) => throw new InvalidOperationException("Not asked here.");

        public Task ProbeAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Stands in for Redis: an in-memory map that counts every call, or times out on cue.</summary>
    private sealed class CountingCache : IDistributedCache
    {
        private readonly Dictionary<string, byte[]> _values = [];
        private int _calls;

        public bool Fails { get; init; }

        public int Calls => Volatile.Read(ref _calls);

        public byte[]? Get(string key) => Call(() => _values.GetValueOrDefault(key));

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult(Get(key));

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => Call(() => _values[key] = value);

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            Set(key, value, options);
            return Task.CompletedTask;
        }

        public void Refresh(string key) => Call(() => true);

        public Task RefreshAsync(string key, CancellationToken token = default)
        {
            Refresh(key);
            return Task.CompletedTask;
        }

        public void Remove(string key) => Call(() => _values.Remove(key));

        public Task RemoveAsync(string key, CancellationToken token = default)
        {
            Remove(key);
            return Task.CompletedTask;
        }

        private T Call<T>(Func<T> call)
        {
            Interlocked.Increment(ref _calls);
            return Fails ? throw new TimeoutException("Timeout awaiting response") : call();
        }
    }
}
