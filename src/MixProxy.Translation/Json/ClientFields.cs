using System.Text.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Json;

/// <summary>
/// Values of a client request's fields, read with their JSON type checked. A value of the wrong type is the client's
/// mistake: it is refused with a <see cref="TranslationException"/> naming the field (the host answers 400), never
/// left for <see cref="JsonElement"/> to throw, which would make it the gateway's bug (500). Absent and null fields
/// read as null: whether a field may be left out is the caller's rule.
/// </summary>
internal static class ClientFields
{
    /// <summary>A string, or null when <paramref name="value"/> is absent or null.</summary>
    public static string? OptionalString(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        _ => throw new TranslationException(param, $"'{Leaf(param)}' must be a string."),
    };

    /// <summary>An integer that fits an <see cref="int"/>, or null when <paramref name="value"/> is absent or null.</summary>
    public static int? OptionalInt32(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.Number when value.TryGetInt32(out var number) => number,
        _ => throw new TranslationException(param, $"'{Leaf(param)}' must be an integer from {int.MinValue} to {int.MaxValue}."),
    };

    /// <summary>A boolean, or null when <paramref name="value"/> is absent or null.</summary>
    public static bool? OptionalBoolean(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new TranslationException(param, $"'{Leaf(param)}' must be true or false."),
    };

    /// <summary>
    /// <paramref name="name"/> of <paramref name="parent"/>, which the caller has checked is an object, read as
    /// <see cref="OptionalString(JsonElement, string)"/>. The field's param (<paramref name="parentParam"/>.<paramref name="name"/>)
    /// is only spelled out when it is refused: these are read for every message and tool of a request.
    /// </summary>
    public static string? OptionalString(JsonElement parent, string name, string parentParam)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.String)
        {
            return value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }

        return OptionalString(value, parentParam + "." + name);
    }

    /// <summary>The field's own name, for messages: <c>file_data</c> of <c>messages[0].content[1].file.file_data</c>.</summary>
    public static string Leaf(string param)
    {
        ArgumentNullException.ThrowIfNull(param);
        return param[(param.LastIndexOf('.') + 1)..];
    }
}
