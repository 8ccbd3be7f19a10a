using System.Text.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Json;

/// <summary>
/// Values of an upstream reply's fields, read with their JSON type checked. A field the translation needs (what
/// carries the answer: candidates and choices, their parts, texts and indices, tool calls and their names and
/// arguments) that has the wrong type is the upstream's fault: <see cref="UpstreamResponseException"/> (502 for a
/// whole reply, an error event mid-stream), never left for <see cref="JsonElement"/> to throw, which would make it the
/// gateway's bug. Optional extras (ids, signatures, usage, logprobs, grounding, and finish reasons, which already read
/// as a stop when unknown) read as absent when odd: they must not cost the client its answer. Messages name the field
/// by a constant, so the happy path allocates nothing for them.
/// </summary>
internal static class UpstreamFields
{
    /// <summary>An object; anything else is bad upstream data.</summary>
    public static JsonElement RequireObject(JsonElement value, string what) =>
        value.ValueKind == JsonValueKind.Object ? value : throw WrongType(what);

    /// <summary>A string, or null when absent or null; anything else is bad upstream data.</summary>
    public static string? String(JsonElement value, string what) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        _ => throw WrongType(what),
    };

    /// <summary>A string that must be there; anything else (absence and null included) is bad upstream data.</summary>
    public static string RequireString(JsonElement value, string what) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongType(what);

    /// <summary>An <see cref="int"/>, or null when absent or null; anything else is bad upstream data.</summary>
    public static int? Int32(JsonElement value, string what) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.Number when value.TryGetInt32(out var number) => number,
        _ => throw WrongType(what),
    };

    /// <summary>An optional extra's string: null when absent or not a string.</summary>
    public static string? StringOrNone(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>An optional extra's integer: null when absent, not a number, or beyond an <see cref="int"/>.</summary>
    public static int? Int32OrNone(JsonElement value) => value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;

    /// <summary>An optional extra's count: null when absent, not a number, or not a whole <see cref="long"/>.</summary>
    public static long? Int64OrNone(JsonElement value) => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) ? number : null;

    /// <summary>A named field of <paramref name="parent"/> if it is an object and has one, else <see cref="JsonValueKind.Undefined"/>.</summary>
    public static JsonElement Field(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) ? value : default;

    public static UpstreamResponseException WrongType(string what) => new($"The upstream's {what} has the wrong JSON type.");
}
