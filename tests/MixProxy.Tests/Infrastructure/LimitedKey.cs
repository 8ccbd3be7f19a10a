using System.Text.Json.Nodes;
using MixProxy.Auth;

namespace MixProxy.Tests.Infrastructure;

/// <summary>A fresh client key with limits, unique per test so tests sharing one Redis never share limiter state.</summary>
public sealed class LimitedKey(JsonObject limits)
{
    public string Value { get; } = "limited-" + Guid.NewGuid().ToString("N");

    public string ConfigHash => ApiKeyHash.Compute(Value);

    /// <summary>The Redis key of this client key's token counter (see docs/rate-limits.md).</summary>
    public string TokenCounterKey => $"mpx:v1:{{{ConfigHash[7..23]}}}:tokens-charged";

    public void AddTo(JsonObject config) =>
        config["Keys"]!.AsArray().Add(new JsonObject { ["Name"] = "limited", ["Hash"] = ConfigHash, ["Models"] = new JsonArray("*"), ["Limits"] = limits.DeepClone() });
}
