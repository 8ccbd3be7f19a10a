using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>
/// Converts a JSON Schema into the OpenAPI 3.0 subset Gemini's <c>parameters</c> / <c>responseSchema</c> accept, for
/// models configured without raw JSON Schema support. Each rule answers an error Gemini gives on the raw form:
/// unknown keys (<c>additionalProperties</c>, <c>$schema</c>…) are dropped, <c>$ref</c> is inlined, nullable unions
/// become <c>nullable</c>, a missing <c>type</c> is inferred, types are upper-case, and <c>properties</c> /
/// <c>required</c> stay on objects only. What cannot be expressed (recursive references, several non-null
/// alternatives of different types inside <c>type</c>) is a <see cref="TranslationException"/>.
/// </summary>
public static class OpenApiSchemaConverter
{
    private const int MaxDepth = 32;

    private static readonly HashSet<string> CopiedKeys = new(StringComparer.Ordinal)
    {
        "description", "title", "default", "example", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength",
        "minProperties", "maxProperties", "pattern", "propertyOrdering",
    };

    public static void Write(Utf8JsonWriter writer, JsonElement schema, string param)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var definitions = schema.ValueKind == JsonValueKind.Object && (schema.TryGetProperty("$defs", out var defs) || schema.TryGetProperty("definitions", out defs)) && defs.ValueKind == JsonValueKind.Object
            ? defs
            : default;
        WriteSchema(writer, schema, definitions, param, depth: 0, resolving: []);
    }

    private static void WriteSchema(Utf8JsonWriter writer, JsonElement schema, JsonElement definitions, string param, int depth, HashSet<string> resolving)
    {
        if (depth > MaxDepth)
        {
            throw new TranslationException(param, "The schema is nested too deeply for this model.");
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            // `true` / `{}`: anything goes; Gemini needs a type, and an object is the least constraining one.
            writer.WriteStartObject();
            writer.WriteString("type"u8, "OBJECT");
            writer.WriteEndObject();
            return;
        }

        if (schema.TryGetProperty("$ref", out var reference) && ClientFields.OptionalString(reference, param + ".$ref") is { } refText)
        {
            var name = refText.Split('/')[^1];
            if (definitions.ValueKind != JsonValueKind.Object || !definitions.TryGetProperty(name, out var target))
            {
                throw new TranslationException(param, $"The schema reference '{refText}' cannot be resolved.");
            }

            if (!resolving.Add(name))
            {
                throw new TranslationException(param, $"The schema reference '{refText}' is recursive, which this model's schema format cannot express.");
            }

            WriteSchema(writer, target, definitions, param, depth + 1, resolving);
            resolving.Remove(name);
            return;
        }

        // allOf with one member is that member; anyOf/oneOf with a null branch is the other branch, nullable.
        if (schema.TryGetProperty("allOf", out var allOf) && allOf.ValueKind == JsonValueKind.Array && allOf.GetArrayLength() == 1)
        {
            WriteSchema(writer, allOf[0], definitions, param, depth + 1, resolving);
            return;
        }

        var nullable = false;
        List<JsonElement>? alternatives = null;
        foreach (var key in new[] { "anyOf", "oneOf" })
        {
            if (schema.TryGetProperty(key, out var union) && union.ValueKind == JsonValueKind.Array)
            {
                alternatives = [];
                foreach (var branch in union.EnumerateArray())
                {
                    if (branch.ValueKind == JsonValueKind.Object && branch.TryGetProperty("type", out var bt) && bt.ValueKind == JsonValueKind.String && bt.ValueEquals("null"u8))
                    {
                        nullable = true;
                    }
                    else
                    {
                        alternatives.Add(branch);
                    }
                }
            }
        }

        if (alternatives is { Count: 1 })
        {
            WriteNullable(writer, alternatives[0], definitions, param, depth, resolving, nullable);
            return;
        }

        string? type = null;
        if (schema.TryGetProperty("type", out var typeElement))
        {
            if (typeElement.ValueKind == JsonValueKind.String)
            {
                type = typeElement.GetString();
            }
            else if (typeElement.ValueKind == JsonValueKind.Array)
            {
                if (typeElement.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String))
                {
                    throw new TranslationException(param + ".type", "A schema 'type' must be a string or an array of strings.");
                }

                var types = typeElement.EnumerateArray().Select(t => t.GetString()).ToList();
                nullable |= types.Remove("null");
                if (types.Count != 1)
                {
                    throw new TranslationException(param, "A schema 'type' union of several non-null types cannot be expressed for this model; use anyOf.");
                }

                type = types[0];
            }
        }

        type ??= schema.TryGetProperty("properties", out _) ? "object"
            : schema.TryGetProperty("items", out _) ? "array"
            : schema.TryGetProperty("enum", out _) ? "string"
            : alternatives is { Count: > 1 } ? null
            : "object";

        writer.WriteStartObject();
        if (type is not null)
        {
            writer.WriteString("type"u8, type.ToUpperInvariant());
        }

        if (nullable)
        {
            writer.WriteBoolean("nullable"u8, true);
        }

        foreach (var property in schema.EnumerateObject())
        {
            switch (property.Name)
            {
                case var copied when CopiedKeys.Contains(copied):
                    property.WriteTo(writer);
                    break;
                case "format" when property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() is "enum" or "date-time":
                    property.WriteTo(writer);
                    break;
                case "enum" when property.Value.ValueKind == JsonValueKind.Array:
                    // Gemini's enums are strings, and an empty string is refused.
                    writer.WritePropertyName("enum"u8);
                    writer.WriteStartArray();
                    foreach (var value in property.Value.EnumerateArray())
                    {
                        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
                        if (text.Length > 0)
                        {
                            writer.WriteStringValue(text);
                        }
                    }

                    writer.WriteEndArray();
                    break;
                case "properties" when type == "object" && property.Value.ValueKind == JsonValueKind.Object && !property.Value.EnumerateObject().Any():
                    // Gemini refuses "properties should be non-empty for OBJECT type"; a bare OBJECT is accepted.
                    break;
                case "properties" when type == "object" && property.Value.ValueKind == JsonValueKind.Object:
                    writer.WritePropertyName("properties"u8);
                    writer.WriteStartObject();
                    foreach (var child in property.Value.EnumerateObject())
                    {
                        writer.WritePropertyName(child.Name);
                        WriteSchema(writer, child.Value, definitions, $"{param}.properties.{child.Name}", depth + 1, resolving);
                    }

                    writer.WriteEndObject();
                    break;
                case "required" when type == "object" && property.Value.ValueKind == JsonValueKind.Array:
                    // Only names that exist: Gemini refuses a required property it was not told about.
                    var known = schema.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object
                        ? props.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal)
                        : [];
                    writer.WritePropertyName("required"u8);
                    writer.WriteStartArray();
                    foreach (var name in property.Value.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!).Where(known.Contains))
                    {
                        writer.WriteStringValue(name);
                    }

                    writer.WriteEndArray();
                    break;
                case "items" when type == "array":
                    writer.WritePropertyName("items"u8);
                    WriteSchema(writer, property.Value, definitions, param + ".items", depth + 1, resolving);
                    break;
                case "anyOf" or "oneOf" when alternatives is { Count: > 1 }:
                    writer.WritePropertyName("anyOf"u8);
                    writer.WriteStartArray();
                    foreach (var branch in alternatives)
                    {
                        WriteSchema(writer, branch, definitions, param + ".anyOf", depth + 1, resolving);
                    }

                    writer.WriteEndArray();
                    break;
                default:
                    // $schema, $id, $defs, strict, additionalProperties, examples, const…: not in Gemini's subset.
                    break;
            }
        }

        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, JsonElement branch, JsonElement definitions, string param, int depth, HashSet<string> resolving, bool nullable)
    {
        if (!nullable)
        {
            WriteSchema(writer, branch, definitions, param, depth + 1, resolving);
            return;
        }

        // Write the branch, then add nullable: re-read it through a small buffer so nested content is kept whole.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var inner = new Utf8JsonWriter(buffer))
        {
            WriteSchema(inner, branch, definitions, param, depth + 1, resolving);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        writer.WriteStartObject();
        foreach (var property in document.RootElement.EnumerateObject().Where(p => p.Name != "nullable"))
        {
            property.WriteTo(writer);
        }

        writer.WriteBoolean("nullable"u8, true);
        writer.WriteEndObject();
    }
}
