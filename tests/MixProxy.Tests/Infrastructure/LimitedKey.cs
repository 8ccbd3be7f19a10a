using System.Text.Json.Nodes;
using MixProxy.Auth;
using StackExchange.Redis;

namespace MixProxy.Tests.Infrastructure;

/// <summary>A fresh client key with limits, unique per test so tests sharing one Redis never share limiter state.</summary>
public sealed class LimitedKey(JsonObject limits)
{
    public string Value { get; } = "limited-" + Guid.NewGuid().ToString("N");

    public string ConfigHash => ApiKeyHash.Compute(Value);

    /// <summary>The Redis key of this client key's token counter (see docs/rate-limits.md).</summary>
    public string TokenCounterKey => $"mpx:v1:{{{ConfigHash[7..23]}}}:tokens-charged";

    /// <summary>
    /// This key's token counter once it reads <paramref name="expected"/>, or after 5 s whatever it reads. The gateway
    /// settles a request once its response is over, and a client that reads a body of declared length to its end can
    /// get there first: the settlement is asynchronous to the client, not missing.
    /// </summary>
    public async Task<long> TokensChargedAsync(IDatabase redis, long expected)
    {
        ArgumentNullException.ThrowIfNull(redis);
        for (var attempt = 0; attempt < 50; attempt++)
        {
            if ((long)await redis.StringGetAsync(TokenCounterKey) == expected)
            {
                return expected;
            }

            await Task.Delay(100);
        }

        return (long)await redis.StringGetAsync(TokenCounterKey);
    }

    public void AddTo(JsonObject config) =>
        config["Keys"]!.AsArray().Add(new JsonObject { ["Name"] = "limited", ["Hash"] = ConfigHash, ["Models"] = new JsonArray("*"), ["Limits"] = limits.DeepClone() });
}
