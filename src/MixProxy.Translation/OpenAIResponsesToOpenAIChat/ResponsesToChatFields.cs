using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>
/// Type-checked readers for Responses request fields that <see cref="ClientFields"/> does not cover (objects,
/// arrays, numbers, required strings). Like it, a value of the wrong JSON type is the client's mistake and is refused
/// naming the field; absent and null read as absent.
/// </summary>
internal static class ResponsesToChatFields
{
    /// <summary><paramref name="name"/> of <paramref name="parent"/>; <see cref="JsonValueKind.Undefined"/> when absent or null.</summary>
    public static JsonElement Get(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : default;

    public static bool IsSet(JsonElement value) => value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);

    public static string RequiredString(JsonElement parent, string name, string parentParam) =>
        ClientFields.OptionalString(parent, name, parentParam)
        ?? throw new TranslationException(parentParam + "." + name, $"Missing required parameter: '{parentParam}.{name}'.");

    /// <summary>An object, or <see cref="JsonValueKind.Undefined"/> when absent or null.</summary>
    public static JsonElement OptionalObject(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => default,
        JsonValueKind.Object => value,
        _ => throw new TranslationException(param, $"'{ClientFields.Leaf(param)}' must be an object."),
    };

    /// <summary>An array, or <see cref="JsonValueKind.Undefined"/> when absent or null.</summary>
    public static JsonElement OptionalArray(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => default,
        JsonValueKind.Array => value,
        _ => throw new TranslationException(param, $"'{ClientFields.Leaf(param)}' must be an array."),
    };

    /// <summary>A finite number, or null when absent or null.</summary>
    public static double? OptionalNumber(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.Number when value.TryGetDouble(out var number) && double.IsFinite(number) => number,
        _ => throw new TranslationException(param, $"'{ClientFields.Leaf(param)}' must be a number."),
    };

    /// <summary>A string that is one of <paramref name="allowed"/>, or null when absent or null.</summary>
    public static string? OptionalChoice(JsonElement value, string param, params string[] allowed)
    {
        var text = ClientFields.OptionalString(value, param);
        if (text is not null && !allowed.Contains(text, StringComparer.Ordinal))
        {
            throw new TranslationException(param, $"Invalid value for '{ClientFields.Leaf(param)}': '{text}'. Supported values are: {string.Join(", ", allowed.Select(a => $"'{a}'"))}.");
        }

        return text;
    }
}
