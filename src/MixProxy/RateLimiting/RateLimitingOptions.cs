using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MixProxy.RateLimiting;

/// <summary>What the limiter does when Redis cannot be reached.</summary>
public enum RedisFailureMode
{
    /// <summary>Keep serving under this process's own limits (availability first). The default.</summary>
    Open,

    /// <summary>Refuse rate-limited requests with 503 until Redis is back (hard quotas first).</summary>
    Closed,
}

/// <summary>
/// Process settings of the limiter, from the <c>MixProxy:RateLimiting</c> configuration section (or the
/// <c>MIXPROXY_REDIS</c> environment variable for the connection), validated at start-up by
/// <see cref="RateLimitingOptionsValidator"/>. Per-key limits live in the config file, not here. To add a setting: a
/// property here, its validation attribute, a row in docs/rate-limits.md.
/// </summary>
public sealed class RateLimitingOptions
{
    public const string Section = "MixProxy:RateLimiting";

    /// <summary>StackExchange.Redis connection string (e.g. <c>127.0.0.1:6379,password=…</c>); empty keeps limits in memory.</summary>
    public string? Redis { get; set; }

    public RedisFailureMode FailureMode { get; set; } = RedisFailureMode.Open;

    /// <summary>How long one Redis call may take before the limiter falls back; keeps a dead Redis to milliseconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:10")]
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long the limiter stops asking Redis after a call failed or timed out (the circuit breaker is open, requests
    /// go straight to the fallback), and how often, meanwhile, one background PING checks whether Redis answers again.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan RedisBreakDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Output tokens reserved for a request that sets no output cap; corrected when the real usage is known.</summary>
    [Range(1, 1_000_000)]
    public int DefaultOutputReservation { get; set; } = 1024;
}

/// <summary>Checks <see cref="RateLimitingOptions"/> against its attributes; generated, so no reflection at start-up.</summary>
[OptionsValidator]
internal sealed partial class RateLimitingOptionsValidator : IValidateOptions<RateLimitingOptions>;
