using System.Text;
using Microsoft.Extensions.Caching.Distributed;
using MixProxy.Translation.Protocols;
using MixProxy.Telemetry;

namespace MixProxy.Caching;

/// <summary>
/// Remembers the Gemini thought signatures issued with tool calls, by tool-call id, so a later turn from a client
/// that dropped Google's <c>extra_content</c> still sends them back (Gemini 3 refuses the turn otherwise). Entries
/// are per client key, live an hour, and use the same store as the response cache: Redis when configured (shared by
/// every replica), memory otherwise. Failures only mean a signature is not restored.
/// </summary>
internal sealed class ThoughtSignatureCache(IDistributedCache cache, ILogger<ThoughtSignatureCache> logger)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    /// <summary>At most this many (the most recent) tool calls of a request are looked up: a bound on work per request.</summary>
    public const int MaxLookups = 64;

    public async Task<ThoughtSignatureBag> RecallAsync(string keyHash, IReadOnlyList<string> toolCallIds, CancellationToken cancellationToken)
    {
        var bag = new ThoughtSignatureBag();
        try
        {
            // Looked up together (one round of requests, not one after another).
            var found = await Task.WhenAll(toolCallIds.Distinct(StringComparer.Ordinal).TakeLast(MaxLookups).Select(async id => (Id: id, Value: await cache.GetAsync(Key(keyHash, id), cancellationToken).ConfigureAwait(false)))).ConfigureAwait(false);
            foreach (var (id, value) in found)
            {
                if (value is not null)
                {
                    bag.Add(id, Encoding.UTF8.GetString(value));
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            GatewayLog.SignatureCacheFailed(logger, "read", e.Message);
        }

        return bag;
    }

    public async Task RememberAsync(string keyHash, ThoughtSignatureBag signatures)
    {
        foreach (var (id, signature) in signatures.Items)
        {
            try
            {
                await cache.SetAsync(Key(keyHash, id), Encoding.UTF8.GetBytes(signature), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = Lifetime }).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                GatewayLog.SignatureCacheFailed(logger, "write", e.Message);
                return;
            }
        }
    }

    private static string Key(string keyHash, string toolCallId) => $"sig:{keyHash.AsSpan(7, 16)}:{toolCallId}";
}
