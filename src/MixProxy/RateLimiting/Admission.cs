namespace MixProxy.RateLimiting;

/// <summary>What one limit looked like at admission time, for the rate-limit response headers.</summary>
internal readonly record struct LimitState(LimitKind Kind, long Limit, long Remaining, TimeSpan Reset);

internal enum LimitKind
{
    Requests,
    Tokens,
    Concurrency,
}

/// <summary>
/// One GCRA limit to check and charge: <paramref name="Cost"/> units against <paramref name="Limit"/> units per minute.
/// <paramref name="Key"/> is the storage key (no secrets in it).
/// </summary>
internal readonly record struct RateCharge(string Key, LimitKind Kind, long Limit, long Cost);

/// <summary>Everything one admission asks the store to check atomically.</summary>
internal sealed record AdmissionRequest(
    string PartitionKey,
    IReadOnlyList<RateCharge> Charges,
    string? ConcurrencyKey,
    int ConcurrencyLimit,
    string RequestId,
    string? TokenCounterKey,
    long ReservedTokens);

/// <summary>The verdict, with the state of each limit (for headers) and, when refused, which limit and for how long.</summary>
internal sealed record AdmissionResult(bool Allowed, LimitKind? DeniedBy, TimeSpan RetryAfter, IReadOnlyList<LimitState> States, bool Degraded)
{
    public static AdmissionResult Unlimited { get; } = new(true, null, TimeSpan.Zero, [], false);
}

/// <summary>How the reservation made at admission is settled once the real usage is known.</summary>
internal sealed record Settlement(AdmissionRequest Admission, long TokenDelta);
