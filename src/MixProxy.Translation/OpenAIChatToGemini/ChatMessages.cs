using System.Text.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>Chat Completions → Gemini: messages become <c>contents</c> (alternating user and model turns) and <c>systemInstruction</c>; user text parts are copied from the request's own elements.</summary>
internal static class ChatMessages
{
    internal static string RoleOf(JsonElement message, int index)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException($"messages[{index}]", "Each message must be an object.");
        }

        if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
        {
            throw new TranslationException($"messages[{index}].role", "Each message needs a 'role'.");
        }

        // Compared as UTF-8 in place: roles are read for every message, several times, and need no string.
        return role.ValueEquals("user"u8) ? "user"
            : role.ValueEquals("assistant"u8) ? "model"
            : role.ValueEquals("system"u8) || role.ValueEquals("developer"u8) ? "system"
            : role.ValueEquals("tool"u8) || role.ValueEquals("function"u8) ? "tool"
            : throw new TranslationException($"messages[{index}].role", $"Unknown role '{role.GetString()}'.");
    }

    internal static void WriteSystemInstruction(Utf8JsonWriter writer, JsonElement messages)
    {
        var started = false;
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (RoleOf(message, index) == "system")
            {
                foreach (var text in TextsOf(message, index))
                {
                    if (!started)
                    {
                        writer.WritePropertyName("systemInstruction"u8);
                        writer.WriteStartObject();
                        writer.WritePropertyName("parts"u8);
                        writer.WriteStartArray();
                        started = true;
                    }

                    WriteTextPart(writer, text);
                }
            }

            index++;
        }

        if (started)
        {
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }

    /// <summary>The non-empty text values of a system message, as elements: written out without a string copy.</summary>
    internal static IEnumerable<JsonElement> TextsOf(JsonElement message, int index)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            yield break;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            if (IsNonEmptyString(content))
            {
                yield return content;
            }

            yield break;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            throw new TranslationException($"messages[{index}].content", "'content' must be a string or an array of parts.");
        }

        var p = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || !IsTextType(type))
            {
                throw new TranslationException($"messages[{index}].content[{p}]", "System and developer messages may only contain text parts.");
            }

            if (part.TryGetProperty("text", out var t) && IsNonEmptyString(t, $"messages[{index}].content[{p}].text"))
            {
                yield return t;
            }

            p++;
        }
    }

    internal static void WriteContents(Utf8JsonWriter writer, JsonElement messages, UpstreamModelProfile profile, ThoughtSignatureBag? knownSignatures, bool replaySignatures)
    {
        writer.WritePropertyName("contents"u8);
        writer.WriteStartArray();

        // Gemini wants alternating turns: consecutive user and tool messages merge into one user content,
        // consecutive assistant messages into one model content.
        string? openRole = null;
        var list = messages.EnumerateArray().ToList();

        // The calls of the latest model turn, in order, which its tool results answer; and every call made so far
        // by id, the latest winning (some clients number ids per turn, so call_0 recurs).
        List<ChatToolCalls.PendingCall>? turnCalls = null;
        Dictionary<string, string>? earlierCalls = null;
        for (var index = 0; index < list.Count; index++)
        {
            var message = list[index];
            var role = RoleOf(message, index);

            // A content of another JSON type (an object, a number) would otherwise read as no content at all: the
            // question would be lost, and the request still answered and billed.
            if (message.TryGetProperty("content", out var content) && content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array or JsonValueKind.Null))
            {
                throw new TranslationException($"messages[{index}].content", "'content' must be a string, an array of content parts, or null.");
            }

            if (role == "model")
            {
                if (message.TryGetProperty("function_call", out var legacy) && legacy.ValueKind != JsonValueKind.Null)
                {
                    throw new TranslationException($"messages[{index}].function_call", "'function_call' is OpenAI's retired form of a tool call; send 'tool_calls' instead.");
                }

                if (openRole != "model")
                {
                    turnCalls?.Clear();
                }

                if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0)
                {
                    ChatToolCalls.CollectCalls(calls, turnCalls ??= [], earlierCalls ??= new(StringComparer.Ordinal));
                }
            }

            if (role == "system" || !HasParts(message, role))
            {
                continue;
            }

            var geminiRole = role == "model" ? "model" : "user";
            if (openRole != geminiRole)
            {
                if (openRole is not null)
                {
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }

                writer.WriteStartObject();
                writer.WriteString("role"u8, geminiRole);
                writer.WritePropertyName("parts"u8);
                writer.WriteStartArray();
                openRole = geminiRole;
            }

            switch (role)
            {
                case "user":
                    WriteUserParts(writer, message, index, profile);
                    break;
                case "model":
                    ChatToolCalls.WriteAssistantParts(writer, message, index, profile, knownSignatures, replaySignatures);
                    break;
                default:
                    index = ChatToolCalls.WriteToolResults(writer, list, index, turnCalls ?? [], earlierCalls ?? [], profile);
                    break;
            }
        }

        if (openRole is null)
        {
            // Only system messages: Gemini rejects empty contents, OpenAI accepts this, so ask with a blank turn.
            writer.WriteStartObject();
            writer.WriteString("role"u8, "user");
            writer.WritePropertyName("parts"u8);
            writer.WriteStartArray();
            writer.WriteStartObject();
            writer.WriteString("text"u8, " ");
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndArray();
    }

    internal static bool HasParts(JsonElement message, string role)
    {
        if (role == "tool")
        {
            return true;
        }

        if (role == "model" && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0)
        {
            return true;
        }

        if (role == "model" && message.TryGetProperty("refusal", out var refusal) && refusal.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) && (refusal.ValueKind != JsonValueKind.String || IsNonEmptyString(refusal)))
        {
            // A refusal is model text (a value of the wrong type counts, so that writing it refuses it by name).
            return true;
        }

        if (!message.TryGetProperty("content", out var content))
        {
            return false;
        }

        if (role == "model" && content.ValueKind == JsonValueKind.Array)
        {
            var p = 0;
            return content.EnumerateArray().Any(part => AssistantTextOf(part, $"content[{p++}]", check: false) is not null || !IsAssistantPartType(part));
        }

        return content.ValueKind switch
        {
            JsonValueKind.String => !content.ValueEquals(""u8),
            // A text of the wrong JSON type counts as a part, so that writing it refuses it by name.
            JsonValueKind.Array => content.EnumerateArray().Any(p => p.ValueKind != JsonValueKind.Object || !p.TryGetProperty("type", out var t) || !IsTextType(t) || (p.TryGetProperty("text", out var x) && (x.ValueKind is not (JsonValueKind.String or JsonValueKind.Null) || IsNonEmptyString(x)))),
            _ => false,
        };
    }

    /// <summary>
    /// A <c>{"text": …}</c> part copied from the request's own string element: messages make up most of a request,
    /// and going through a .NET string would allocate each of them once more.
    /// </summary>
    internal static void WriteTextPart(Utf8JsonWriter writer, JsonElement text)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("text"u8);
        text.WriteTo(writer);
        writer.WriteEndObject();
    }

    /// <summary>
    /// The text of an assistant content part: a <c>text</c> part's <c>text</c>, or a <c>refusal</c> part's
    /// <c>refusal</c> (the model's own words, kept as text); null when it is empty. Chat assistant messages hold no other
    /// part types, and one that cannot reach Gemini is refused by name rather than left out.
    /// </summary>
    internal static JsonElement? AssistantTextOf(JsonElement part, string param, bool check = true)
    {
        if (!IsAssistantPartType(part))
        {
            return check ? throw new TranslationException(param, "Assistant messages can hold only text and refusal parts.") : null;
        }

        var field = part.GetProperty("type").ValueEquals("text"u8) ? "text" : "refusal";
        if (!part.TryGetProperty(field, out var value))
        {
            return null;
        }

        if (!check)
        {
            return IsNonEmptyString(value) ? value : null;
        }

        return value.ValueKind is JsonValueKind.String or JsonValueKind.Null
            ? (IsNonEmptyString(value) ? value : null)
            : throw new TranslationException($"{param}.{field}", $"'{field}' must be a string.");
    }

    private static bool IsAssistantPartType(JsonElement part) =>
        part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
        && (type.ValueEquals("text"u8) || type.ValueEquals("refusal"u8));

    /// <summary>Whether a content part's <c>type</c> is <c>text</c> (a type of any other JSON type is not).</summary>
    internal static bool IsTextType(JsonElement type) => type.ValueKind == JsonValueKind.String && type.ValueEquals("text"u8);

    internal static bool IsNonEmptyString(JsonElement element) => element.ValueKind == JsonValueKind.String && !element.ValueEquals(""u8);

    /// <summary>As above, for a field that must be text when present: anything but a string or null is refused.</summary>
    internal static bool IsNonEmptyString(JsonElement element, string param) =>
        element.ValueKind is JsonValueKind.String or JsonValueKind.Null
            ? IsNonEmptyString(element)
            : throw new TranslationException(param, "'text' must be a string.");

    internal static void WriteUserParts(Utf8JsonWriter writer, JsonElement message, int index, UpstreamModelProfile profile)
    {
        var content = message.GetProperty("content");
        if (content.ValueKind == JsonValueKind.String)
        {
            WriteTextPart(writer, content);
            return;
        }

        var p = 0;
        foreach (var part in content.EnumerateArray())
        {
            var param = $"messages[{index}].content[{p++}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                throw new TranslationException(param, "Each content part must be an object with a 'type'.");
            }

            switch (typeElement.GetString())
            {
                case "text":
                    if (part.TryGetProperty("text", out var text) && IsNonEmptyString(text, param + ".text"))
                    {
                        WriteTextPart(writer, text);
                    }

                    break;
                case "image_url":
                    ChatMedia.WriteMediaUrlPart(writer, part, param, profile);
                    break;
                case "input_audio":
                    ChatMedia.WriteAudioPart(writer, part, param);
                    break;
                case "file":
                    ChatMedia.WriteFilePart(writer, part, param);
                    break;
                case var other:
                    throw new TranslationException(param, $"Content part type '{other}' cannot be sent to a Gemini model.");
            }
        }
    }
}
