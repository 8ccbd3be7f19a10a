using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessages;

/// <summary>
/// Type-checked readers for Anthropic request fields beyond <see cref="ClientFields"/> (objects, arrays, numbers,
/// required strings, choices): a value of the wrong JSON type is the client's mistake and is refused naming the field
/// (400, <c>invalid_request_error</c>); absent and null read as absent.
/// </summary>
internal static class AnthropicFields
{
    /// <summary><paramref name="name"/> of <paramref name="parent"/>; <see cref="JsonValueKind.Undefined"/> when absent or null.</summary>
    public static JsonElement Get(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : default;

    public static bool IsSet(JsonElement value) => value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);

    public static string RequiredString(JsonElement parent, string name, string parentParam)
    {
        var param = parentParam.Length == 0 ? name : parentParam + "." + name;
        return ClientFields.OptionalString(Get(parent, name), param) ?? throw new TranslationException(param, $"{param}: Field required");
    }

    public static JsonElement OptionalObject(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => default,
        JsonValueKind.Object => value,
        _ => throw new TranslationException(param, $"{param}: Input should be an object"),
    };

    public static JsonElement OptionalArray(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => default,
        JsonValueKind.Array => value,
        _ => throw new TranslationException(param, $"{param}: Input should be a valid list"),
    };

    public static double? OptionalNumber(JsonElement value, string param) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.Number when value.TryGetDouble(out var number) && double.IsFinite(number) => number,
        _ => throw new TranslationException(param, $"{param}: Input should be a valid number"),
    };

    /// <summary>A string that is one of <paramref name="allowed"/>, or null when absent or null.</summary>
    public static string? OptionalChoice(JsonElement value, string param, params string[] allowed)
    {
        var text = ClientFields.OptionalString(value, param);
        if (text is not null && !allowed.Contains(text, StringComparer.Ordinal))
        {
            throw new TranslationException(param, $"{param}: Input should be {string.Join(", ", allowed.Select(a => $"'{a}'"))}");
        }

        return text;
    }

    /// <summary>A block's <c>type</c>, required.</summary>
    public static string TypeOf(JsonElement block, string param)
    {
        if (block.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(param, $"{param}: Input should be an object");
        }

        return RequiredString(block, "type", param);
    }
}
