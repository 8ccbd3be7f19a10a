using Microsoft.Extensions.Caching.Distributed;
using MixProxy.RateLimiting;
using StackExchange.Redis;

namespace MixProxy.Caching;

/// <summary>
/// The Redis store of the response cache, the thought-signature memory and the stored results, behind the limiter's
/// circuit breaker (<see cref="FailoverLimiterStore"/>): while it is open, because Redis failed or hung, no call waits
/// out <see cref="RateLimitingOptions.RedisTimeout"/>; each fails at once with <see cref="SharedStoreUnavailableException"/>,
/// and the callers degrade as on any failure (a cache miss, no remembered signature, 503 for a stored result). A call
/// of theirs that fails or times out opens the breaker too, so a hung Redis costs one wait, not one per call.
/// </summary>
internal sealed class BreakerGuardedCache(IDistributedCache inner, FailoverLimiterStore breaker) : IDistributedCache
{
    public byte[]? Get(string key) => Guard(() => inner.Get(key));

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => GuardAsync(() => inner.GetAsync(key, token));

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => Guard(() =>
    {
        inner.Set(key, value, options);
        return true;
    });

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        GuardAsync(async () =>
        {
            await inner.SetAsync(key, value, options, token).ConfigureAwait(false);
            return true;
        });

    public void Refresh(string key) => Guard(() =>
    {
        inner.Refresh(key);
        return true;
    });

    public Task RefreshAsync(string key, CancellationToken token = default) =>
        GuardAsync(async () =>
        {
            await inner.RefreshAsync(key, token).ConfigureAwait(false);
            return true;
        });

    public void Remove(string key) => Guard(() =>
    {
        inner.Remove(key);
        return true;
    });

    public Task RemoveAsync(string key, CancellationToken token = default) =>
        GuardAsync(async () =>
        {
            await inner.RemoveAsync(key, token).ConfigureAwait(false);
            return true;
        });

    private T Guard<T>(Func<T> call)
    {
        ThrowIfOpen();
        try
        {
            return call();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            breaker.ConnectionLost("shared store: " + e.Message);
            throw;
        }
    }

    private async Task<T> GuardAsync<T>(Func<Task<T>> call)
    {
        ThrowIfOpen();
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            breaker.ConnectionLost("shared store: " + e.Message);
            throw;
        }
    }

    private void ThrowIfOpen()
    {
        if (breaker.Degraded)
        {
            throw new SharedStoreUnavailableException();
        }
    }
}

/// <summary>Redis is unreachable (the breaker is open): the shared store was not asked.</summary>
internal sealed class SharedStoreUnavailableException : Exception
{
    public SharedStoreUnavailableException()
        : base("Redis is unreachable; the shared store was not asked (the limiter's circuit breaker is open).")
    {
    }

    public SharedStoreUnavailableException(string message)
        : base(message)
    {
    }

    public SharedStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
