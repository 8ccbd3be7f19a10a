using System.Text.Json.Nodes;

namespace MixProxy.Simulator;

/// <summary>
/// The smallest JSON value a schema accepts, for the simulated model's structured output: a JSON Schema (OpenAI's
/// <c>json_schema</c>, Gemini's <c>responseJsonSchema</c>) or Gemini's OpenAPI subset (<c>responseSchema</c>, types in
/// capitals). An object gets its required properties (all of them when none is required), an array one item, a
/// choice (<c>anyOf</c>, <c>oneOf</c>, a list of types, <c>nullable</c>) its first branch.
/// </summary>
internal static class SchemaInstance
{
    // Deep enough for any schema a test writes; a recursive $ref stops here instead of overflowing the stack.
    private const int MaxDepth = 32;

    public static JsonNode? For(JsonNode? schema) => Make(schema, schema, 0);

    private static JsonNode? Make(JsonNode? schema, JsonNode? root, int depth)
    {
        if (schema is not JsonObject s || depth > MaxDepth)
        {
            return "sim"; // no schema (or `true`, or one we gave up on) accepts anything
        }

        if (Text(s["$ref"]) is { } reference && Resolve(root, reference) is { } target)
        {
            return Make(target, root, depth + 1);
        }

        if (s.TryGetPropertyValue("const", out var constant))
        {
            return constant?.DeepClone();
        }

        if (s["enum"] is JsonArray { Count: > 0 } values)
        {
            return values[0]?.DeepClone();
        }

        if ((s["anyOf"] ?? s["oneOf"] ?? s["allOf"]) is JsonArray { Count: > 0 } branches)
        {
            return Make(branches[0], root, depth + 1);
        }

        var type = s["type"] switch
        {
            JsonArray types => types.Select(Text).FirstOrDefault(t => t is not null and not "null") ?? Text(types.FirstOrDefault()),
            var single => Text(single),
        };
        type = type?.ToLowerInvariant() ?? (s["properties"] is not null ? "object" : s["items"] is not null ? "array" : null);
        return type switch
        {
            "object" => Object(s, root, depth),
            "array" => new JsonArray(Make(s["items"] is JsonArray tuple ? tuple.FirstOrDefault() : s["items"], root, depth + 1)),
            "integer" or "number" => 1,
            "boolean" => true,
            "null" => null,
            _ => "sim",
        };
    }

    private static JsonObject Object(JsonObject schema, JsonNode? root, int depth)
    {
        var properties = schema["properties"] as JsonObject ?? new JsonObject();
        var required = (schema["required"] as JsonArray)?.Select(Text).OfType<string>().ToList();
        var names = required is { Count: > 0 } ? required : properties.Select(p => p.Key).ToList();
        var instance = new JsonObject();
        foreach (var name in names)
        {
            instance[name] = Make(properties[name], root, depth + 1);
        }

        return instance;
    }

    /// <summary>A reference inside the schema itself (<c>#/$defs/Step</c>); others are not followed.</summary>
    private static JsonNode? Resolve(JsonNode? root, string reference)
    {
        if (!reference.StartsWith('#'))
        {
            return null;
        }

        var node = root;
        foreach (var token in reference[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            node = node is JsonObject o ? o[token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)] : null;
        }

        return node;
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
