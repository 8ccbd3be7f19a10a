using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;
using MixProxy.Telemetry;

namespace MixProxy.Caching;

/// <summary>A response as the client received it, kept for replay.</summary>
internal sealed record CachedResponse(string ContentType, ReadOnlyMemory<byte> Body);

/// <summary>Whether a key's cached responses may be served to other keys.</summary>
internal enum CacheSharing
{
    /// <summary>Entries are this key's own (the default).</summary>
    Private,

    /// <summary>Entries are shared with every other key marked Shared.</summary>
    Shared,

    /// <summary>Nothing from this key is ever cached or served from the cache.</summary>
    Off,
}

/// <summary>
/// The opt-in exact-match response cache, on <see cref="IDistributedCache"/>: Redis (sharing the limiter's
/// connection) when configured, this process's memory otherwise. Entries are keyed by a hash of everything that
/// decides the answer: the canonical upstream request body, the upstream path and protocol, the client API and
/// the sharing scope. Cache failures are misses, never errors.
/// </summary>
internal sealed class ResponseCache(IDistributedCache cache, ILogger<ResponseCache> logger)
{
    /// <summary>Larger responses are served but not kept.</summary>
    public const int MaxEntryBytes = 4 * 1024 * 1024;

    public static string Key(string scope, string cluster, string route, string upstreamTarget, bool stream, bool includeUsage, ReadOnlySpan<byte> canonicalBody)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{scope}\n{cluster}\n{route}\n{upstreamTarget}\n{stream}\n{includeUsage}\n"));
        hash.AppendData(canonicalBody);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public async Task<CachedResponse?> GetAsync(string key, CancellationToken cancellationToken)
    {
        byte[]? stored;
        try
        {
            stored = await cache.GetAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            GatewayLog.ResponseCacheFailed(logger, "read", e.Message);
            return null;
        }

        if (stored is null)
        {
            return null;
        }

        // Layout: content type, a newline, the body.
        var newline = Array.IndexOf(stored, (byte)'\n');
        return newline < 0 ? null : new CachedResponse(Encoding.UTF8.GetString(stored, 0, newline), stored.AsMemory(newline + 1));
    }

    public async Task SetAsync(string key, CachedResponse response, TimeSpan ttl)
    {
        var header = Encoding.UTF8.GetBytes(response.ContentType + "\n");
        var stored = new byte[header.Length + response.Body.Length];
        header.CopyTo(stored, 0);
        response.Body.Span.CopyTo(stored.AsSpan(header.Length));
        try
        {
            await cache.SetAsync(key, stored, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = ttl }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            GatewayLog.ResponseCacheFailed(logger, "write", e.Message);
        }
    }
}

/// <summary>
/// Passes the response through to the client while keeping a copy; when the body ends normally and the exchange's
/// <paramref name="outcome"/> says it is complete, the copy is handed to <paramref name="onComplete"/>.
/// </summary>
internal sealed class RecordingStream(Stream inner, ExchangeOutcome outcome, Action<ReadOnlyMemory<byte>> onComplete) : ObservingStream(inner)
{
    private readonly ArrayBufferWriter<byte> _copy = new();
    private bool _tooLarge;

    protected override void OnData(ReadOnlySpan<byte> data)
    {
        _tooLarge |= _copy.WrittenCount + data.Length > ResponseCache.MaxEntryBytes;
        if (!_tooLarge)
        {
            _copy.Write(data);
        }
    }

    protected override void OnEnd()
    {
        if (!_tooLarge && !outcome.Faulted)
        {
            onComplete(_copy.WrittenMemory);
        }
    }
}
