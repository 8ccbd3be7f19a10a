using StackExchange.Redis;
using MixProxy.Telemetry;

namespace MixProxy.RateLimiting;

/// <summary>
/// Uses Redis while it answers and this process's memory while it does not, with a small circuit breaker in front:
/// the first failed or timed-out call (or a lost connection) opens it, and while it is open no request asks Redis
/// (none waits out <see cref="RateLimitingOptions.RedisTimeout"/> against a hung server). Every
/// <see cref="RateLimitingOptions.RedisBreakDuration"/>, and at once when the multiplexer reports the connection back,
/// a single background probe (a PING bounded by the timeout) checks Redis; the first that answers closes the breaker.
/// Recovery therefore needs no traffic: an idle replica stops reporting itself degraded as soon as Redis is back.
/// Requests admitted locally are settled locally.
/// </summary>
internal sealed class FailoverLimiterStore : IDisposable
{
    private readonly ISharedLimiterStore _shared;
    private readonly InMemoryLimiterStore _local;
    private readonly RateLimitingOptions _options;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<FailoverLimiterStore> _logger;
    private readonly ITimer _probeTimer;
    private readonly CancellationTokenSource _disposed = new();

    // Opening and closing each flip the state and the probe timer together, so a close racing an open cannot leave
    // the breaker open with its timer stopped.
    private readonly Lock _transition = new();
    private int _open;
    private int _probing;
    private bool _isDisposed;

    public FailoverLimiterStore(ISharedLimiterStore shared, InMemoryLimiterStore local, RateLimitingOptions options, TimeProvider time, GatewayMetrics metrics, ILogger<FailoverLimiterStore> logger)
    {
        _shared = shared;
        _local = local;
        _options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _probeTimer = time.CreateTimer(static state => ((FailoverLimiterStore)state!).StartProbe(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        // A replica that starts while Redis is away says so before its first request.
        if (!shared.IsConnected)
        {
            Open("not connected at start-up");
        }
    }

    /// <summary>True while the breaker is open: limits are enforced per process (or refused) because Redis is unreachable.</summary>
    public bool Degraded => Volatile.Read(ref _open) == 1;

    public async Task<(AdmissionResult Result, ILimiterStore Store)> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        if (!Degraded && _shared.IsConnected)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                var result = await _shared.AdmitAsync(request, cancellationToken).WaitAsync(_options.RedisTimeout, _time, cancellationToken).ConfigureAwait(false);
                Observe("admit", "ok", started);
                return (result, _shared);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Observe("admit", "error", started);
                Open(e.Message);

                // The script may still have run after we stopped waiting: give back the concurrency slot it may have
                // taken. A token reservation it may have charged stays (a refund could return tokens never charged).
                _ = CompensateAsync(request);
            }
        }
        else if (!_shared.IsConnected)
        {
            Open("not connected");
        }

        if (_options.FailureMode == RedisFailureMode.Closed)
        {
            return (new AdmissionResult(false, null, TimeSpan.FromSeconds(1), [], Degraded: true), _local);
        }

        var fallback = await _local.AdmitAsync(request, cancellationToken).ConfigureAwait(false);
        return (fallback with { Degraded = true }, _local);
    }

    public async Task SettleAsync(ILimiterStore store, Settlement settlement, CancellationToken cancellationToken)
    {
        if (store != _shared)
        {
            await store.SettleAsync(settlement, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (Degraded)
        {
            // Admitted by Redis before the breaker opened: not worth a timeout on the response path now; the
            // background retry sends it once Redis may answer, and the lease expires on its own if it never does.
            _ = RetrySettleAsync(settlement);
            return;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await store.SettleAsync(settlement, cancellationToken).WaitAsync(_options.RedisTimeout, _time, cancellationToken).ConfigureAwait(false);
            Observe("settle", "ok", started);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Observe("settle", "error", started);
            Open(e.Message);

            // Try once more in the background without the tight timeout, so the slot and the correction are not
            // lost to a short stall; if Redis stays away, the lease expires on its own.
            _ = RetrySettleAsync(settlement);
        }
    }

    /// <summary>The multiplexer lost a connection: stop asking Redis until a probe answers (also on an idle replica).</summary>
    public void ConnectionLost(string reason) => Open(reason);

    /// <summary>The multiplexer has a connection again: probe now rather than at the next tick.</summary>
    public void ConnectionRestored()
    {
        if (Degraded)
        {
            StartProbe();
        }
    }

    public void Dispose()
    {
        lock (_transition)
        {
            _isDisposed = true;
            _probeTimer.Dispose();
        }

        _disposed.Cancel();
        _disposed.Dispose();
    }

    private void Open(string reason)
    {
        lock (_transition)
        {
            if (Interlocked.Exchange(ref _open, 1) == 1)
            {
                return;
            }

            if (!_isDisposed)
            {
                _probeTimer.Change(_options.RedisBreakDuration, _options.RedisBreakDuration);
            }
        }

        GatewayLog.LimiterDegraded(_logger, _options.FailureMode, reason);
    }

    private void Close()
    {
        lock (_transition)
        {
            if (Interlocked.Exchange(ref _open, 0) == 0)
            {
                return;
            }

            if (!_isDisposed)
            {
                _probeTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }

        GatewayLog.LimiterRestored(_logger);
    }

    private void StartProbe()
    {
        // One probe at a time: a hung Redis holds at most one probe, never a pile of them.
        if (Interlocked.Exchange(ref _probing, 1) == 0)
        {
            _ = ProbeAsync();
        }
    }

    private async Task ProbeAsync()
    {
        try
        {
            if (_shared.IsConnected)
            {
                await _shared.ProbeAsync(_disposed.Token).WaitAsync(_options.RedisTimeout, _time, _disposed.Token).ConfigureAwait(false);
                Close();
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            // Still away (or shutting down): the breaker stays open and the timer tries again.
        }
        finally
        {
            Volatile.Write(ref _probing, 0);
        }
    }

    private async Task CompensateAsync(AdmissionRequest request)
    {
        try
        {
            await Task.Delay(_options.RedisTimeout, _time).ConfigureAwait(false);
            await _shared.SettleAsync(new Settlement(request, 0), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Redis is still away: the lease and the reservation expire with their keys.
        }
    }

    private async Task RetrySettleAsync(Settlement settlement)
    {
        try
        {
            await Task.Delay(_options.RedisTimeout, _time).ConfigureAwait(false);
            await _shared.SettleAsync(settlement, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // As above: over-counting until the keys expire is the safe direction.
        }
    }

    private void Observe(string operation, string outcome, long started) =>
        _metrics.LimiterStoreDuration.Record(
            System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("mixproxy.limiter.operation", operation),
            new KeyValuePair<string, object?>("mixproxy.limiter.store_outcome", outcome));
}
