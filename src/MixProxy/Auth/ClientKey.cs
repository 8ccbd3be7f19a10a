using System.Security.Cryptography;
using System.Text;
using MixProxy.Caching;
using MixProxy.RateLimiting;
using MixProxy.Routing;

namespace MixProxy.Auth;

/// <summary>A client key from the config file: a name for logs and metrics, and the models it may use.</summary>
internal sealed record ClientKey(string Name, string Hash, IReadOnlyList<string> ModelPatterns, KeyLimits Limits, CacheSharing Cache = CacheSharing.Private)
{
    public bool MayUse(string model) => ModelPatterns.Any(p => Glob.IsMatch(p, model));
}

/// <summary>
/// Hashes client keys the way the config file stores them. Keys are long random secrets, so one SHA-256
/// is enough: there is no low-entropy password to stretch, and the hash runs on every request.
/// </summary>
internal static class ApiKeyHash
{
    public const string Prefix = "sha256:";

    public static string Compute(string key) => Prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static bool IsWellFormed(string hash) =>
        hash.StartsWith(Prefix, StringComparison.Ordinal) && hash.Length == Prefix.Length + 64 && hash.AsSpan(Prefix.Length).ContainsOnlyHex();

    /// <summary>A new random key, URL-safe, with a recognisable prefix so leaked keys are easy to find.</summary>
    public static string NewKey() => "mpx-" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

internal static class SpanHexExtensions
{
    public static bool ContainsOnlyHex(this ReadOnlySpan<char> span)
    {
        foreach (var c in span)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return true;
    }
}
