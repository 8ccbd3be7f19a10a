namespace MixProxy.RateLimiting;

/// <summary>Per-minute request and token limits and a concurrency cap; null means unlimited.</summary>
internal sealed record LimitSet(long? RequestsPerMinute, long? TokensPerMinute, int? ConcurrentRequests)
{
    public bool IsEmpty => RequestsPerMinute is null && TokensPerMinute is null && ConcurrentRequests is null;
}

/// <summary>A client key's limits: for the key as a whole, and optionally per model (name or <c>*</c> pattern).</summary>
internal sealed record KeyLimits(LimitSet Key, IReadOnlyList<(string ModelPattern, LimitSet Limits)> PerModel)
{
    public static KeyLimits None { get; } = new(new LimitSet(null, null, null), []);

    public bool HasTokenLimits => Key.TokensPerMinute is not null || PerModel.Any(m => m.Limits.TokensPerMinute is not null);

    public bool IsEmpty => Key.IsEmpty && PerModel.Count == 0;
}
