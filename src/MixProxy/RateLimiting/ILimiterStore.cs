namespace MixProxy.RateLimiting;

/// <summary>Where limiter state lives: Redis (shared by every replica) or this process's memory.</summary>
internal interface ILimiterStore
{
    /// <summary>Checks every charge (and the concurrency cap) atomically; charges all of them only when all pass.</summary>
    Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken);

    /// <summary>Corrects the token reservation by <see cref="Settlement.TokenDelta"/> and releases the concurrency slot.</summary>
    Task SettleAsync(Settlement settlement, CancellationToken cancellationToken);
}
