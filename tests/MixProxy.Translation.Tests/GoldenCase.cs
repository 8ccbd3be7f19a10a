using System.Text.Json;
using System.Text.Json.Nodes;

namespace MixProxy.Translation.Tests;

/// <summary>
/// One folder under <c>Golden/&lt;kind&gt;/</c>: the input and the expected output side by side, so a reviewer
/// reads a case without reading code. Expected JSON may use <c>"&lt;any&gt;"</c> where a value is random
/// (ids the gateway mints); everything else must match exactly.
/// </summary>
public static class GoldenCase
{
    public const string Any = "<any>";

    public static string Root => Path.Combine(AppContext.BaseDirectory, "Golden");

    public static TheoryData<string> Cases(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var directory in Directory.GetDirectories(Path.Combine(Root, kind)).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(directory));
        }

        return data;
    }

    public static string PathOf(string kind, string name, string file) => Path.Combine(Root, kind, name, file);

    public static bool Has(string kind, string name, string file) => File.Exists(PathOf(kind, name, file));

    public static string Read(string kind, string name, string file) => File.ReadAllText(PathOf(kind, name, file));

    public static JsonNode ReadJson(string kind, string name, string file) => JsonNode.Parse(Read(kind, name, file))!;

    /// <summary>
    /// Fails when a case lacks an expected file. With <c>GOLDEN_DRAFTS</c> set, the actual output is first written
    /// there as a draft for the author to review by hand; it is never accepted on its own.
    /// </summary>
    public static void RequireExpected(string kind, string name, string file, string actual)
    {
        if (Has(kind, name, file))
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("GOLDEN_DRAFTS") is { Length: > 0 } drafts)
        {
            Directory.CreateDirectory(Path.Combine(drafts, kind, name));
            File.WriteAllText(Path.Combine(drafts, kind, name, file), actual);
        }

        Assert.Fail($"{kind}/{name} has no {file}.");
    }

    /// <summary>Asserts <paramref name="actual"/> matches <paramref name="expected"/>, naming the first differing path.</summary>
    public static void AssertJsonMatches(JsonNode? expected, JsonNode? actual, string path = "$")
    {
        if (expected is JsonValue ev && ev.GetValueKind() == JsonValueKind.String && ev.GetValue<string>() == Any)
        {
            Assert.True(actual is JsonValue av && av.GetValueKind() == JsonValueKind.String && av.GetValue<string>().Length > 0, $"{path}: expected a non-empty string, got {actual?.ToJsonString() ?? "null"}");
            return;
        }

        switch (expected)
        {
            case JsonObject eo:
                var ao = Assert.IsType<JsonObject>(actual, exactMatch: false);
                var missing = eo.Select(p => p.Key).Except(ao.Select(p => p.Key)).ToList();
                var extra = ao.Select(p => p.Key).Except(eo.Select(p => p.Key)).ToList();
                Assert.True(missing.Count == 0 && extra.Count == 0, $"{path}: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}] in {actual!.ToJsonString()}");
                foreach (var (key, value) in eo)
                {
                    AssertJsonMatches(value, ao[key], $"{path}.{key}");
                }

                break;
            case JsonArray ea:
                var aa = Assert.IsType<JsonArray>(actual, exactMatch: false);
                Assert.True(ea.Count == aa.Count, $"{path}: expected {ea.Count} items, got {aa.Count}: {aa.ToJsonString()}");
                for (var i = 0; i < ea.Count; i++)
                {
                    AssertJsonMatches(ea[i], aa[i], $"{path}[{i}]");
                }

                break;
            default:
                Assert.True(JsonNode.DeepEquals(expected, actual), $"{path}: expected {expected?.ToJsonString() ?? "null"}, got {actual?.ToJsonString() ?? "null"}");
                break;
        }
    }

    /// <summary>The <c>data:</c> payloads of an SSE text, in order.</summary>
    public static List<string> SseData(string sse) =>
        sse.Replace("\r\n", "\n", StringComparison.Ordinal)
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => string.Join("\n", e.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].TrimStart())))
            .Where(d => d.Length > 0)
            .ToList();
}
