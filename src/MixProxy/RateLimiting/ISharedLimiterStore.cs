namespace MixProxy.RateLimiting;

/// <summary>The limiter store every replica shares (Redis): it can be away, so the failover store asks whether it is connected and probes it.</summary>
internal interface ISharedLimiterStore : ILimiterStore
{
    /// <summary>Whether the connection is up now (asking a disconnected store would only fail).</summary>
    bool IsConnected { get; }

    /// <summary>One cheap round trip (a PING) that proves the store answers; throws when it does not.</summary>
    Task ProbeAsync(CancellationToken cancellationToken);
}
