using System.Globalization;

namespace MixProxy.RateLimiting;

/// <summary>
/// Rate-limit response headers: OpenAI's <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c>, which OpenAI
/// SDK users read, and the IETF draft's <c>RateLimit-Policy</c> / <c>RateLimit</c> fields.
/// </summary>
internal static class RateLimitHeaders
{
    public static void Apply(IHeaderDictionary headers, AdmissionResult result)
    {
        var policies = new List<string>();
        var current = new List<string>();
        foreach (var (kind, name) in new[] { (LimitKind.Requests, "requests"), (LimitKind.Tokens, "tokens") })
        {
            // Several limits of a kind may apply (key-wide and per model): report the tightest.
            var states = result.States.Where(s => s.Kind == kind).ToList();
            if (states.Count == 0)
            {
                continue;
            }

            var tightest = states.MinBy(s => s.Remaining);
            headers[$"x-ratelimit-limit-{name}"] = Number(tightest.Limit);
            headers[$"x-ratelimit-remaining-{name}"] = Number(tightest.Remaining);
            headers[$"x-ratelimit-reset-{name}"] = Duration(tightest.Reset);
            policies.Add($"\"{name}\";q={Number(tightest.Limit)};w=60");
            current.Add($"\"{name}\";r={Number(tightest.Remaining)};t={Number((long)Math.Ceiling(tightest.Reset.TotalSeconds))}");
        }

        if (policies.Count > 0)
        {
            headers["RateLimit-Policy"] = string.Join(", ", policies);
            headers["RateLimit"] = string.Join(", ", current);
        }
    }

    public static void ApplyRetryAfter(IHeaderDictionary headers, TimeSpan retryAfter)
    {
        headers.RetryAfter = Number((long)Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)));
        headers["retry-after-ms"] = Number((long)Math.Ceiling(retryAfter.TotalMilliseconds));
    }

    /// <summary>OpenAI's duration style: <c>250ms</c>, <c>6s</c>, <c>1m30s</c>.</summary>
    internal static string Duration(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return Number((long)Math.Ceiling(value.TotalMilliseconds)) + "ms";
        }

        var seconds = (long)Math.Ceiling(value.TotalSeconds);
        return seconds < 60 ? Number(seconds) + "s" : Number(seconds / 60) + "m" + Number(seconds % 60) + "s";
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
