using System.Globalization;
using StackExchange.Redis;

namespace MixProxy.RateLimiting;

/// <summary>
/// Limits shared by every gateway replica: one Lua script per admission (one round trip, Redis' own clock,
/// all limits checked and charged atomically) and one per settlement. All keys of a client key share one
/// Redis Cluster hash slot through the <c>{…}</c> tag in <see cref="LimiterKeys"/>.
/// </summary>
internal sealed class RedisLimiterStore(IConnectionMultiplexer redis) : ISharedLimiterStore
{
    // KEYS: the GCRA keys (n), then the concurrency zset (when c = 1), then the token counter (when t = 1).
    // ARGV: n, c, t, then limit and cost per GCRA key, then concurrency limit, request id, lease ms, reserved tokens.
    // Returns {denied (0 or the 1-based limit that refused), retry ms, remaining and reset ms per GCRA key, active leases}.
    private const string AdmitScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
        local n, c, tc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local period = 60000
        -- A cell is "tat|limit"; a changed limit rescales the units already used (Gcra.Rescale).
        local function read_tat(key, now, limit)
          local cell = redis.call('GET', key)
          if not cell then return now end
          local tat, old = string.match(cell, '^([^|]+)|(.+)$')
          tat, old = tonumber(tat), tonumber(old)
          if tat <= now then return now end
          if old > 0 and old ~= limit then tat = now + (tat - now) * old / limit end
          return tat
        end
        local denied, retry = 0, 0
        local tats, out = {}, {}
        for i = 1, n do
          local limit, cost = tonumber(ARGV[3 + 2 * i - 1]), tonumber(ARGV[3 + 2 * i])
          local emission = period / limit
          local tat = read_tat(KEYS[i], now, limit)
          local new_tat = tat + cost * emission
          local allow_at = new_tat - period
          if now < allow_at then
            if denied == 0 then denied = i end
            retry = math.max(retry, allow_at - now)
            new_tat = tat
          end
          tats[i] = new_tat
          out[#out + 1] = math.max(0, math.floor((period - (new_tat - now)) / emission))
          out[#out + 1] = math.ceil(new_tat - now)
        end
        local base = 3 + 2 * n
        local active = 0
        if c == 1 then
          local ckey = KEYS[n + 1]
          redis.call('ZREMRANGEBYSCORE', ckey, '-inf', now)
          active = redis.call('ZCARD', ckey)
          if active >= tonumber(ARGV[base + 1]) then
            if denied == 0 then denied = n + 1 end
            retry = math.max(retry, 1000)
          end
        end
        if denied == 0 then
          for i = 1, n do
            local ttl = math.ceil(tats[i] - now)
            if ttl > 0 then redis.call('SET', KEYS[i], string.format('%.3f|%d', tats[i], tonumber(ARGV[3 + 2 * i - 1])), 'PX', ttl) end
          end
          if c == 1 then
            local lease = tonumber(ARGV[base + 3])
            redis.call('ZADD', KEYS[n + 1], now + lease, ARGV[base + 2])
            redis.call('PEXPIRE', KEYS[n + 1], lease)
          end
          if tc == 1 then redis.call('INCRBY', KEYS[n + c + 1], ARGV[base + 4]) end
        end
        out[#out + 1] = active
        return { denied, math.ceil(retry), unpack(out) }
        """;

    // KEYS: the token GCRA keys (n), then the concurrency zset (when c = 1), then the token counter (when t = 1).
    // ARGV: n, c, t, then limit per token key, then delta, request id.
    private const string SettleScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
        local n, c, tc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local delta = tonumber(ARGV[4 + n])
        if delta ~= 0 then
          for i = 1, n do
            local limit = tonumber(ARGV[3 + i])
            local emission = 60000 / limit
            local tat = now
            local cell = redis.call('GET', KEYS[i])
            if cell then
              local stored, old = string.match(cell, '^([^|]+)|(.+)$')
              stored, old = tonumber(stored), tonumber(old)
              if stored > now then tat = now + (stored - now) * old / limit end
            end
            local new_tat = tat + delta * emission
            if new_tat <= now then
              redis.call('DEL', KEYS[i])
            else
              redis.call('SET', KEYS[i], string.format('%.3f|%d', new_tat, limit), 'PX', math.ceil(new_tat - now))
            end
          end
          if tc == 1 then redis.call('INCRBY', KEYS[n + c + 1], delta) end
        end
        if c == 1 then redis.call('ZREM', KEYS[n + 1], ARGV[5 + n]) end
        return 1
        """;

    public bool IsConnected => redis.IsConnected;

    public Task ProbeAsync(CancellationToken cancellationToken) => redis.GetDatabase().PingAsync();

    public async Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var keys = new List<RedisKey>();
        var args = new List<RedisValue> { request.Charges.Count, request.ConcurrencyKey is null ? 0 : 1, request.TokenCounterKey is null ? 0 : 1 };
        foreach (var charge in request.Charges)
        {
            keys.Add(charge.Key);
            args.Add(charge.Limit);
            args.Add(charge.Cost);
        }

        if (request.ConcurrencyKey is not null)
        {
            keys.Add(request.ConcurrencyKey);
        }

        if (request.TokenCounterKey is not null)
        {
            keys.Add(request.TokenCounterKey);
        }

        args.Add(request.ConcurrencyLimit);
        args.Add(request.RequestId);
        args.Add((long)InMemoryLimiterStore.LeaseLifetimeMs);
        args.Add(request.ReservedTokens);

        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(AdmitScript, [.. keys], [.. args]).ConfigureAwait(false))!;
        var denied = (int)result[0];
        var retry = (long)result[1];
        var states = new List<LimitState>(request.Charges.Count + 1);
        for (var i = 0; i < request.Charges.Count; i++)
        {
            var charge = request.Charges[i];
            states.Add(new LimitState(charge.Kind, charge.Limit, (long)result[2 + (2 * i)], TimeSpan.FromMilliseconds((long)result[3 + (2 * i)])));
        }

        if (request.ConcurrencyKey is not null)
        {
            var active = (long)result[2 + (2 * request.Charges.Count)];
            states.Add(new LimitState(LimitKind.Concurrency, request.ConcurrencyLimit, Math.Max(0, request.ConcurrencyLimit - active - (denied == 0 ? 1 : 0)), TimeSpan.Zero));
        }

        LimitKind? deniedBy = denied == 0 ? null : denied <= request.Charges.Count ? request.Charges[denied - 1].Kind : LimitKind.Concurrency;
        return new AdmissionResult(denied == 0, deniedBy, TimeSpan.FromMilliseconds(retry), states, Degraded: false);
    }

    public async Task SettleAsync(Settlement settlement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        var request = settlement.Admission;
        var tokenCharges = request.Charges.Where(c => c.Kind == LimitKind.Tokens).ToList();
        if (request.ConcurrencyKey is null && (settlement.TokenDelta == 0 || (tokenCharges.Count == 0 && request.TokenCounterKey is null)))
        {
            return; // nothing to correct, nothing to release
        }

        var keys = new List<RedisKey>(tokenCharges.Select(c => (RedisKey)c.Key));
        var args = new List<RedisValue> { tokenCharges.Count, request.ConcurrencyKey is null ? 0 : 1, request.TokenCounterKey is null ? 0 : 1 };
        args.AddRange(tokenCharges.Select(c => (RedisValue)c.Limit));
        if (request.ConcurrencyKey is not null)
        {
            keys.Add(request.ConcurrencyKey);
        }

        if (request.TokenCounterKey is not null)
        {
            keys.Add(request.TokenCounterKey);
        }

        args.Add(settlement.TokenDelta);
        args.Add(request.RequestId);
        await redis.GetDatabase().ScriptEvaluateAsync(SettleScript, [.. keys], [.. args]).ConfigureAwait(false);
    }

    /// <summary>Tokens charged so far to a client key's counter (reservations plus settlements).</summary>
    public async Task<long> TokensChargedAsync(string counterKey)
    {
        var value = await redis.GetDatabase().StringGetAsync(counterKey).ConfigureAwait(false);
        return value.TryParse(out long tokens) ? tokens : 0;
    }
}

/// <summary>
/// Redis key layout. <c>{…}</c> is a Redis Cluster hash tag: every key of one client key lands in one slot, so
/// the multi-key scripts work on a cluster. The tag is a hash of the key's config hash, never the key itself.
/// </summary>
internal static class LimiterKeys
{
    public const string Prefix = "mpx:v1:";

    public static string Partition(string keyHash) => "{" + keyHash.AsSpan(keyHash.IndexOf(':', StringComparison.Ordinal) + 1, 16).ToString() + "}";

    public static string Requests(string partition, string? model) => model is null ? $"{Prefix}{partition}:rpm" : $"{Prefix}{partition}:m:{model}:rpm";

    public static string Tokens(string partition, string? model) => model is null ? $"{Prefix}{partition}:tpm" : $"{Prefix}{partition}:m:{model}:tpm";

    public static string Concurrency(string partition, string? model) => model is null ? $"{Prefix}{partition}:conc" : $"{Prefix}{partition}:m:{model}:conc";

    public static string TokenCounter(string partition) => $"{Prefix}{partition}:tokens-charged";

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
