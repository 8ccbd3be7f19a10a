using Microsoft.Extensions.Caching.Distributed;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;

namespace MixProxy.State;

/// <summary>
/// The results clients asked the gateway to store, per client key: another key never finds them (a read answers as if
/// the id did not exist). On <see cref="IDistributedCache"/>, like the caches: Redis when configured, memory otherwise.
/// A failed write is logged and counted (the answer already went out); a failed read is the caller's to refuse, since
/// answering "not found" for a result that exists would send a client off to start its conversation again.
/// </summary>
internal sealed class StoredResultStore(IDistributedCache cache, StoredResultOptions options, GatewayMetrics metrics, ILogger<StoredResultStore> logger)
{
    public async Task<StoreRead> FindAsync(string keyHash, string id, CancellationToken cancellationToken)
    {
        try
        {
            var record = await cache.GetAsync(Key(keyHash, id), cancellationToken).ConfigureAwait(false);
            Count("read", record is null ? "not_found" : "ok");
            return new StoreRead(record is null ? null : new StoredResult(id, record), Failed: false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Count("read", "failed");
            GatewayLog.StoredResultsFailed(logger, "read", e.Message);
            return new StoreRead(null, Failed: true);
        }
    }

    public async Task SaveAsync(string keyHash, StoredResult result)
    {
        try
        {
            await cache.SetAsync(Key(keyHash, result.Id), result.Record.ToArray(), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = options.TimeToLive }).ConfigureAwait(false);
            Count("save", "ok");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Count("save", "failed");
            GatewayLog.StoredResultsFailed(logger, "write", e.Message);
        }
    }

    /// <summary>Removes a result; false when the key had none by that id.</summary>
    public async Task<StoreRead> DeleteAsync(string keyHash, string id, CancellationToken cancellationToken)
    {
        var found = await FindAsync(keyHash, id, cancellationToken).ConfigureAwait(false);
        if (found.Result is null)
        {
            return found;
        }

        try
        {
            await cache.RemoveAsync(Key(keyHash, id), cancellationToken).ConfigureAwait(false);
            Count("delete", "ok");
            return found;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Count("delete", "failed");
            GatewayLog.StoredResultsFailed(logger, "delete", e.Message);
            return new StoreRead(null, Failed: true);
        }
    }

    private void Count(string operation, string result) =>
        metrics.StoredResultOperations.Add(1, new KeyValuePair<string, object?>("mixproxy.operation", operation), new KeyValuePair<string, object?>("mixproxy.result", result));

    // The key's hash scopes the entry: the same id under another key is another (absent) entry.
    private static string Key(string keyHash, string id) => $"result:{keyHash.AsSpan(7, 16)}:{id}";
}

/// <summary>A read of the store: the result (null when absent), or that the store could not be read.</summary>
internal readonly record struct StoreRead(StoredResult? Result, bool Failed);
