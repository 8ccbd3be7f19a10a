using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;

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
internal sealed partial class ResponseCache(IDistributedCache cache, ILogger<ResponseCache> logger)
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
            LogCacheFailed(logger, "read", e.Message);
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
            LogCacheFailed(logger, "write", e.Message);
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Response cache {Operation} failed ({Reason}); treated as a miss.")]
    private static partial void LogCacheFailed(ILogger logger, string operation, string reason);
}

/// <summary>
/// Passes the response through to the client while keeping a copy; when the body ends normally (and the
/// response did not end in an error event) the copy is handed to <paramref name="onComplete"/>.
/// </summary>
internal sealed class RecordingStream(Stream inner, Func<bool> faulted, Action<ReadOnlyMemory<byte>> onComplete) : Stream
{
    private readonly ArrayBufferWriter<byte> _copy = new();
    private bool _tooLarge;
    private bool _done;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (buffer.IsEmpty)
        {
            return read; // a zero-byte read only waits for data; it is not the end of the stream
        }

        if (read > 0 && !_tooLarge)
        {
            _tooLarge = _copy.WrittenCount + read > ResponseCache.MaxEntryBytes;
            if (!_tooLarge)
            {
                _copy.Write(buffer.Span[..read]);
            }
        }
        else if (read == 0 && !_done)
        {
            _done = true;
            if (!_tooLarge && !faulted())
            {
                onComplete(_copy.WrittenMemory);
            }
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
