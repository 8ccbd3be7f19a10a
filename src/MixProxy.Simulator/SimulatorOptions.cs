namespace MixProxy.Simulator;

/// <summary>
/// How the simulated upstream behaves. Every value can also be overridden per request with an
/// <c>x-simulator-*</c> header (see README), which is how load tests pick latency without a restart.
/// </summary>
public sealed class SimulatorOptions
{
    /// <summary>Delay before the response headers (and the first stream event).</summary>
    public TimeSpan FirstByteDelay { get; set; }

    /// <summary>Delay between stream events.</summary>
    public TimeSpan ChunkInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How many events a stream carries (the reply text is split over them).</summary>
    public int StreamChunks { get; set; } = 8;

    /// <summary>When set, requests must present this key (Bearer, x-goog-api-key, ?key= or x-api-key) or get the provider's 401.</summary>
    public string? RequiredKey { get; set; }

    /// <summary>When above zero, this fraction of requests (0..1) fails with <see cref="InjectedErrorStatus"/>.</summary>
    public double ErrorRate { get; set; }

    public int InjectedErrorStatus { get; set; } = 503;
}
