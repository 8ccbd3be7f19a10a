namespace MixProxy.RateLimiting;

/// <summary>
/// The generic cell rate algorithm on one number per limit, the theoretical arrival time (TAT, in ms).
/// A limit of L units per minute emits one unit every 60000/L ms and lets a full minute's worth through at
/// once (burst = L). The same arithmetic runs in Lua inside Redis (<see cref="RedisLimiterStore"/>).
/// </summary>
internal static class Gcra
{
    /// <summary>
    /// When an operator changes a limit in the file, the units already used stay used: the stored TAT (kept
    /// with the emission interval it was computed under) is rescaled to the new interval. Without this, a TAT
    /// means "time until empty", and raising a limit from 3 to 5 after 3 requests would still refuse the 4th.
    /// </summary>
    public static double Rescale(double storedTat, long storedLimit, double now, long limit)
    {
        // The stored limit is an integer, so "unchanged" is exact: no rounding can creep in between calls.
        if (storedTat <= now || storedLimit <= 0 || storedLimit == limit)
        {
            return storedTat;
        }

        var used = (storedTat - now) / Emission(storedLimit);
        return now + (used * Emission(limit));
    }

    public const double PeriodMs = 60_000;

    public static double Emission(long limit) => PeriodMs / limit;

    /// <summary>Would charging <paramref name="cost"/> fit? Returns the new TAT, or the wait when it does not.</summary>
    public static (bool Allowed, double NewTat, double RetryAfterMs) Try(double storedTat, double now, long limit, long cost)
    {
        var emission = Emission(limit);
        var tat = Math.Max(storedTat, now);
        var newTat = tat + (cost * emission);
        var allowAt = newTat - PeriodMs;
        return now < allowAt ? (false, tat, allowAt - now) : (true, newTat, 0);
    }

    /// <summary>Units still available at <paramref name="now"/> given <paramref name="tat"/>.</summary>
    public static long Remaining(double tat, double now, long limit) =>
        Math.Max(0, (long)Math.Floor((PeriodMs - Math.Max(0, tat - now)) / Emission(limit)));

    /// <summary>TAT after adding (or refunding, when negative) <paramref name="delta"/> units.</summary>
    public static double Adjust(double storedTat, double now, long limit, long delta) =>
        Math.Max(storedTat, now) + (delta * Emission(limit));
}
