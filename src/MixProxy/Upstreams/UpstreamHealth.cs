using System.Collections.Concurrent;
using System.Globalization;

namespace MixProxy.Upstreams;

/// <summary>Why a destination (or its quota group) is out of rotation.</summary>
internal enum CooldownReason
{
    /// <summary>It answered 429: out for as long as it asked (<c>Retry-After</c>, Google's <c>RetryInfo</c>), else a backoff.</summary>
    Quota,

    /// <summary>It failed (unreachable, timed out, 5xx) too many times in a row.</summary>
    Failure,

    /// <summary>It refused the gateway's key: out until the config gives it another key or an operator resets it.</summary>
    Credential,
}

/// <summary>
/// A destination or quota group out of rotation until <see cref="UntilMs"/> (Unix milliseconds, so replicas agree);
/// <see cref="Strikes"/> counts the cooldowns since its last success (the backoff doubles with each).
/// </summary>
internal sealed record Cooldown(CooldownReason Reason, long UntilMs, int Strikes, int Status)
{
    /// <summary>"Until an operator resets it or the config changes": a refused key never comes back by itself.</summary>
    public const long Indefinitely = long.MaxValue;

    public bool ActiveAt(long nowMs) => UntilMs > nowMs;

    /// <summary>The form Redis keeps and replicas exchange: <c>reason|until|strikes|status</c>.</summary>
    public string Serialize() => string.Create(CultureInfo.InvariantCulture, $"{(int)Reason}|{UntilMs}|{Strikes}|{Status}");

    public static Cooldown? Parse(string? text)
    {
        var parts = text?.Split('|');
        return parts is { Length: 4 }
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var reason) && Enum.IsDefined((CooldownReason)reason)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var until)
            && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var strikes)
            && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var status)
                ? new Cooldown((CooldownReason)reason, until, strikes, status)
                : null;
    }
}

/// <summary>Where cooldowns go besides this process: Redis, so that one replica's 429 spares the others.</summary>
internal interface ICooldownSharing
{
    /// <summary>Shares a cooldown set here (null: one cleared here). Never throws and never waits for the store.</summary>
    void Publish(string key, Cooldown? cooldown);
}

/// <summary>
/// Which destinations are out of rotation, and why. Reads are a lookup in an immutable map (every request makes
/// them); writes, which happen only when an upstream fails or recovers, copy it. Cooldowns are kept by
/// <see cref="UpstreamDestination.HealthKey"/> (the destination's own) and <see cref="UpstreamDestination.QuotaKey"/>
/// (its quota group's), and shared through <see cref="Sharing"/> when Redis is configured. Consecutive failures are
/// counted per process; the cooldown they lead to is shared.
/// </summary>
internal sealed class UpstreamHealth(TimeProvider time)
{
    // Strikes are remembered this long after a cooldown ended, so a destination that fails again soon backs off longer.
    private static readonly long StrikeMemoryMs = (long)TimeSpan.FromHours(1).TotalMilliseconds;

    private readonly Lock _writing = new();
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
    private volatile Dictionary<string, Cooldown> _cooldowns = new(StringComparer.Ordinal);

    public ICooldownSharing? Sharing { get; set; }

    public long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Every cooldown known here, ended ones included (their strikes still count).</summary>
    public IReadOnlyDictionary<string, Cooldown> Cooldowns => _cooldowns;

    /// <summary>Whether <paramref name="destination"/> may be sent a request now; when not, the cooldown that keeps it out.</summary>
    public bool IsAvailable(UpstreamDestination destination, long nowMs, out Cooldown? blocking)
    {
        var cooldowns = _cooldowns;
        blocking = null;
        if (cooldowns.Count == 0)
        {
            return true; // the usual case: nothing is cooling anywhere
        }

        if (cooldowns.TryGetValue(destination.HealthKey, out var own) && own.ActiveAt(nowMs))
        {
            blocking = own;
        }

        if (!ReferenceEquals(destination.QuotaKey, destination.HealthKey) && cooldowns.TryGetValue(destination.QuotaKey, out var quota) && quota.ActiveAt(nowMs)
            && (blocking is null || quota.UntilMs > blocking.UntilMs))
        {
            blocking = quota;
        }

        return blocking is null;
    }

    /// <summary>A 429: the destination's quota (its group's, when it has one) cools down as long as it asked, else with backoff.</summary>
    public Cooldown ReportQuota(UpstreamDestination destination, ResilienceSettings settings, TimeSpan? retryAfter, int status)
    {
        var now = NowMs;
        var strikes = StrikesBefore(destination.QuotaKey, CooldownReason.Quota, now) + 1;
        var wait = retryAfter ?? Backoff(settings.QuotaCooldown, settings.MaxQuotaCooldown, strikes);
        return Set(destination.QuotaKey, new Cooldown(CooldownReason.Quota, now + (long)Math.Ceiling(wait.TotalMilliseconds), strikes, status));
    }

    /// <summary>A transient failure (status 0 when there was no response): the destination cools down once they reach the threshold in a row.</summary>
    public Cooldown? ReportFailure(UpstreamDestination destination, ResilienceSettings settings, int status)
    {
        var count = _failures.AddOrUpdate(destination.HealthKey, 1, static (_, n) => n + 1);
        if (count < settings.FailureThreshold)
        {
            return null;
        }

        _failures.TryRemove(destination.HealthKey, out _);
        var now = NowMs;
        var strikes = StrikesBefore(destination.HealthKey, CooldownReason.Failure, now) + 1;
        var wait = Backoff(settings.FailureCooldown, settings.MaxFailureCooldown, strikes);
        return Set(destination.HealthKey, new Cooldown(CooldownReason.Failure, now + (long)Math.Ceiling(wait.TotalMilliseconds), strikes, status));
    }

    /// <summary>The upstream refused the gateway's key for this destination: it is out until reset or given another key.</summary>
    public Cooldown ReportCredentialRejected(UpstreamDestination destination, int status) =>
        Set(destination.HealthKey, new Cooldown(CooldownReason.Credential, Cooldown.Indefinitely, 1, status));

    /// <summary>An answer that shows the destination works: its failure count and the strikes of ended cooldowns are cleared.</summary>
    public void ReportSuccess(UpstreamDestination destination)
    {
        // A lock-free look first: every successful answer comes here, and almost none has failures to forget.
        if (_failures.ContainsKey(destination.HealthKey))
        {
            _failures.TryRemove(destination.HealthKey, out _);
        }

        var cooldowns = _cooldowns;
        if (cooldowns.Count == 0)
        {
            return;
        }

        var now = NowMs;
        foreach (var key in (ReadOnlySpan<string>)[destination.HealthKey, destination.QuotaKey])
        {
            if (cooldowns.TryGetValue(key, out var cooldown) && !cooldown.ActiveAt(now))
            {
                Clear(key);
            }
        }
    }

    public int ConsecutiveFailures(UpstreamDestination destination) => _failures.GetValueOrDefault(destination.HealthKey);

    /// <summary>An operator's reset: the destination's own cooldown, its quota group's and its failure count go.</summary>
    public void Reset(UpstreamDestination destination)
    {
        _failures.TryRemove(destination.HealthKey, out _);
        Clear(destination.HealthKey);
        if (destination.QuotaKey != destination.HealthKey)
        {
            Clear(destination.QuotaKey);
        }
    }

    /// <summary>A change another replica made (through <see cref="Sharing"/>): applied here, not shared again.</summary>
    public void Apply(string key, Cooldown? cooldown)
    {
        lock (_writing)
        {
            var next = new Dictionary<string, Cooldown>(_cooldowns, StringComparer.Ordinal);
            if (cooldown is null)
            {
                next.Remove(key);
            }
            else
            {
                next[key] = cooldown;
            }

            _cooldowns = next;
        }
    }

    /// <summary>The shared store's whole state (read when Redis is reached, then now and then): it replaces what is known here.</summary>
    public void ApplyAll(IReadOnlyDictionary<string, Cooldown> shared)
    {
        lock (_writing)
        {
            _cooldowns = new Dictionary<string, Cooldown>(shared, StringComparer.Ordinal);
        }
    }

    private static TimeSpan Backoff(TimeSpan first, TimeSpan max, int strikes) =>
        TimeSpan.FromTicks((long)Math.Min(max.Ticks, first.Ticks * Math.Pow(2, Math.Min(strikes - 1, 30))));

    private int StrikesBefore(string key, CooldownReason reason, long now) =>
        _cooldowns.TryGetValue(key, out var previous) && previous.Reason == reason && now - previous.UntilMs < StrikeMemoryMs ? previous.Strikes : 0;

    private Cooldown Set(string key, Cooldown cooldown)
    {
        lock (_writing)
        {
            var now = NowMs;
            var next = new Dictionary<string, Cooldown>(_cooldowns.Count + 1, StringComparer.Ordinal);
            foreach (var (k, v) in _cooldowns)
            {
                // Ended long ago: its strikes no longer count, so it is forgotten.
                if (now - v.UntilMs < StrikeMemoryMs)
                {
                    next[k] = v;
                }
            }

            next[key] = cooldown;
            _cooldowns = next;
        }

        Sharing?.Publish(key, cooldown);
        return cooldown;
    }

    private void Clear(string key)
    {
        lock (_writing)
        {
            if (!_cooldowns.ContainsKey(key))
            {
                return;
            }

            var next = new Dictionary<string, Cooldown>(_cooldowns, StringComparer.Ordinal);
            next.Remove(key);
            _cooldowns = next;
        }

        Sharing?.Publish(key, null);
    }
}
