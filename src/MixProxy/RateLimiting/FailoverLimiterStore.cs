using StackExchange.Redis;
using MixProxy.Telemetry;

namespace MixProxy.RateLimiting;

/// <summary>
/// Uses Redis while it answers and this process's memory while it does not. A disconnected multiplexer is not
/// even asked (no timeout to wait out), and a failing call costs at most <see cref="RateLimitingOptions.RedisTimeout"/>.
/// Requests admitted locally are settled locally. <paramref name="sharedConnected"/> is the multiplexer's
/// <c>IsConnected</c> (a delegate, so tests can stand in a store that stalls or fails on cue).
/// </summary>
internal sealed class FailoverLimiterStore(
    Func<bool> sharedConnected,
    ILimiterStore shared,
    InMemoryLimiterStore local,
    RateLimitingOptions options,
    Telemetry.GatewayMetrics metrics,
    ILogger<FailoverLimiterStore> logger)
{
    private int _degraded;

    /// <summary>True while limits are enforced per process because Redis is unreachable.</summary>
    public bool Degraded => Volatile.Read(ref _degraded) == 1;

    public async Task<(AdmissionResult Result, ILimiterStore Store)> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        if (sharedConnected())
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                var result = await shared.AdmitAsync(request, cancellationToken).WaitAsync(options.RedisTimeout, cancellationToken).ConfigureAwait(false);
                Observe("admit", "ok", started);
                SetDegraded(false, null);
                return (result, shared);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                Observe("admit", "error", started);
                SetDegraded(true, e.Message);

                // The script may still have run after we stopped waiting: give back the concurrency slot it may have
                // taken. A token reservation it may have charged stays (a refund could return tokens never charged).
                _ = CompensateAsync(request);
            }
        }
        else
        {
            SetDegraded(true, "not connected");
        }

        if (options.FailureMode == RedisFailureMode.Closed)
        {
            return (new AdmissionResult(false, null, TimeSpan.FromSeconds(1), [], Degraded: true), local);
        }

        var fallback = await local.AdmitAsync(request, cancellationToken).ConfigureAwait(false);
        return (fallback with { Degraded = true }, local);
    }

    public async Task SettleAsync(ILimiterStore store, Settlement settlement, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var settle = store.SettleAsync(settlement, cancellationToken);
            await (store == shared ? settle.WaitAsync(options.RedisTimeout, cancellationToken) : settle).ConfigureAwait(false);
            if (store == shared)
            {
                Observe("settle", "ok", started);
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Observe("settle", "error", started);
            SetDegraded(true, e.Message);

            // Try once more in the background without the tight timeout, so the slot and the correction are not
            // lost to a short stall; if Redis stays away, the lease expires on its own.
            _ = RetrySettleAsync(settlement);
        }
    }

    private async Task CompensateAsync(AdmissionRequest request)
    {
        try
        {
            await Task.Delay(options.RedisTimeout).ConfigureAwait(false);
            await shared.SettleAsync(new Settlement(request, 0), CancellationToken.None).ConfigureAwait(false);
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
            await Task.Delay(options.RedisTimeout).ConfigureAwait(false);
            await shared.SettleAsync(settlement, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // As above: over-counting until the keys expire is the safe direction.
        }
    }

    private void Observe(string operation, string outcome, long started) =>
        metrics.LimiterStoreDuration.Record(
            System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("mixproxy.limiter.operation", operation),
            new KeyValuePair<string, object?>("mixproxy.limiter.store_outcome", outcome));

    private void SetDegraded(bool degraded, string? reason)
    {
        if (Interlocked.Exchange(ref _degraded, degraded ? 1 : 0) != (degraded ? 1 : 0))
        {
            if (degraded)
            {
                GatewayLog.LimiterDegraded(logger, options.FailureMode, reason ?? string.Empty);
            }
            else
            {
                GatewayLog.LimiterRestored(logger);
            }
        }
    }
}
