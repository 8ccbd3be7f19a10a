using System.Buffers.Text;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>Chat Completions → Gemini: assistant tool calls become <c>functionCall</c> parts (with their thought signatures) and tool results <c>functionResponse</c> parts, in the order of the calls they answer.</summary>
internal static class ChatToolCalls
{
    /// <summary>A function call of the model turn being answered.</summary>
    internal sealed class PendingCall(string? id, string name)
    {
        public string? Id { get; } = id;

        public string Name { get; } = name;

        public bool Answered { get; set; }
    }

    internal static void CollectCalls(JsonElement calls, List<PendingCall> turnCalls, Dictionary<string, string> earlierCalls)
    {
        foreach (var call in calls.EnumerateArray())
        {
            if (call.ValueKind == JsonValueKind.Object
                && call.TryGetProperty("function", out var fn) && fn.ValueKind == JsonValueKind.Object
                && fn.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            {
                var id = call.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
                turnCalls.Add(new PendingCall(id, name.GetString()!));
                if (id is not null)
                {
                    earlierCalls[id] = name.GetString()!;
                }
            }
        }
    }

    /// <summary>
    /// Writes the run of tool results that starts at <paramref name="start"/> (system messages in between are
    /// skipped: they went to <c>systemInstruction</c>) and returns the index of its last message. The results go
    /// out in the order of the calls they answer, whatever order the client appended them in: Gemini pairs
    /// responses with the calls of the model turn before them by position.
    /// </summary>
    internal static int WriteToolResults(Utf8JsonWriter writer, List<JsonElement> list, int start, List<PendingCall> turnCalls, Dictionary<string, string> earlierCalls, UpstreamModelProfile profile)
    {
        var end = start;
        while (end + 1 < list.Count && ChatMessages.RoleOf(list[end + 1], end + 1) is "tool" or "system")
        {
            end++;
        }

        var results = new List<(int Index, string? Id, string Name, int Position)>();
        for (var i = start; i <= end; i++)
        {
            if (ChatMessages.RoleOf(list[i], i) == "tool")
            {
                var (id, name, position) = ResolveToolCall(list[i], i, turnCalls, earlierCalls);
                results.Add((i, id, name, position));
            }
        }

        foreach (var (i, id, name, _) in results.OrderBy(r => r.Position))
        {
            WriteToolResultPart(writer, list[i], i, id, name, profile);
        }

        return end;
    }

    /// <summary>
    /// The call a tool result answers: by <c>tool_call_id</c> among the latest turn's calls, else among earlier ones;
    /// a legacy <c>function</c> message (no id) by its <c>name</c>, first unanswered call first.
    /// Results for calls outside the latest turn keep their place after the ones that answer it.
    /// </summary>
    internal static (string? Id, string Name, int Position) ResolveToolCall(JsonElement message, int index, List<PendingCall> turnCalls, Dictionary<string, string> earlierCalls)
    {
        if (message.TryGetProperty("tool_call_id", out var idElement) && idElement.ValueKind == JsonValueKind.String)
        {
            var id = idElement.GetString()!;
            var position = turnCalls.FindIndex(c => !c.Answered && c.Id == id);
            if (position >= 0)
            {
                turnCalls[position].Answered = true;
                return (id, turnCalls[position].Name, position);
            }

            if (earlierCalls.TryGetValue(id, out var earlier))
            {
                return (id, earlier, int.MaxValue);
            }
        }
        else if (message.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
        {
            var name = n.GetString()!;
            var position = turnCalls.FindIndex(c => !c.Answered && c.Name == name);
            if (position >= 0)
            {
                turnCalls[position].Answered = true;
                return (turnCalls[position].Id, name, position);
            }

            return (null, name, int.MaxValue);
        }

        throw new TranslationException($"messages[{index}].tool_call_id", "This tool result matches no tool call made earlier in the conversation.");
    }

    /// <summary>
    /// An assistant message as model parts: its text, then its tool calls as <c>functionCall</c> parts with the
    /// signatures Gemini issued for them. With <paramref name="replaySignatures"/> false (a fallback from the endpoint
    /// that issued them) no signature the client sent or the host recalled goes up: the step is treated as one whose
    /// signatures were lost.
    /// </summary>
    internal static void WriteAssistantParts(Utf8JsonWriter writer, JsonElement message, int index, UpstreamModelProfile profile, ThoughtSignatureBag? knownSignatures, bool replaySignatures)
    {
        var requiresSignature = profile.RequiresThoughtSignatures;

        // Each text goes out when the next one comes: the last carries the signature Gemini put on a text part, if
        // the client sent it back (Gemini does not validate these, but asks for them back).
        JsonElement? pending = null;
        if (message.TryGetProperty("content", out var content))
        {
            if (ChatMessages.IsNonEmptyString(content))
            {
                pending = content;
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                var p = 0;
                foreach (var part in content.EnumerateArray())
                {
                    if (ChatMessages.AssistantTextOf(part, $"messages[{index}].content[{p}]") is { } t)
                    {
                        WritePending(writer, pending, null);
                        pending = t;
                    }

                    p++;
                }
            }
        }

        // A refusal the model gave is its answer in that turn: it goes up as the model's text (as the reverse
        // direction turns Chat's refusal into Gemini text), or the turn would vanish and the user turns around it merge.
        if (message.TryGetProperty("refusal", out var refusal) && ChatMessages.IsNonEmptyString(refusal, $"messages[{index}].refusal"))
        {
            WritePending(writer, pending, null);
            pending = refusal;
        }

        WritePending(writer, pending, replaySignatures ? TextSignatureOf(message) : null);

        if (!message.TryGetProperty("tool_calls", out var calls) || calls.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        // Gemini 3 rejects a step whose first function call carries no signature: one that lost its signatures (or
        // may not send them to this endpoint) gets Google's documented bypass value there instead.
        var needsPlaceholder = requiresSignature && !(replaySignatures && calls.EnumerateArray().Any(call => SignatureOf(call, knownSignatures) is not null));
        var c = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var param = $"messages[{index}].tool_calls[{c++}]";
            if (call.ValueKind != JsonValueKind.Object
                || !call.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object
                || !fn.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                throw new TranslationException(param, "A tool call needs 'function.name'.");
            }

            writer.WriteStartObject();
            writer.WritePropertyName("functionCall"u8);
            writer.WriteStartObject();
            if (ClientFields.OptionalString(call, "id", param) is { Length: > 0 } id && SendsId(profile, id))
            {
                writer.WriteString("id"u8, id);
            }

            writer.WriteString("name"u8, name.GetString());
            writer.WritePropertyName("args"u8);
            WriteArguments(writer, fn, param + ".function.arguments");
            writer.WriteEndObject();

            // Gemini 3 validates the signature it issued for this call; clients that keep Google's
            // extra_content carry it back here.
            if (replaySignatures && SignatureOf(call, knownSignatures) is { } sig)
            {
                writer.WriteString("thoughtSignature"u8, sig);
            }
            else if (needsPlaceholder && c == 1)
            {
                writer.WriteString("thoughtSignature"u8, ThoughtSignatures.Bypass);
            }

            writer.WriteEndObject();
        }
    }

    /// <summary>
    /// Whether a call's id goes back on its <c>functionCall</c> and <c>functionResponse</c>: Gemini 3 issues ids and
    /// pairs results with calls by them, so every id but those the gateway minted (for calls Gemini gave none; Gemini
    /// never saw them) goes back to it; an id a client made up (a history begun on another provider) goes too, as
    /// Gemini takes an id on any call of the history. A model configured with <c>FunctionCallIds</c> gets every id,
    /// minted ones included; other models, none (an upstream that issues no ids may reject them).
    /// </summary>
    internal static bool SendsId(UpstreamModelProfile profile, string id) =>
        profile.SupportsFunctionCallIds || (profile.RequiresThoughtSignatures && !GeminiToChatWriting.IsMinted(id));

    /// <summary>The signature the client carried back in Google's place, else the one remembered for this call id.</summary>
    private static void WritePending(Utf8JsonWriter writer, JsonElement? text, string? signature)
    {
        if (text is not { } value)
        {
            return;
        }

        writer.WriteStartObject();
        writer.WritePropertyName("text"u8);
        value.WriteTo(writer);
        if (signature is not null)
        {
            writer.WriteString("thoughtSignature"u8, signature);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// The signature Gemini put on a text part of an assistant turn, as the gateway returned it
    /// (<c>extra_content.google.thought_signature</c> on the message); null when absent or not base64 (lost on the way).
    /// </summary>
    private static string? TextSignatureOf(JsonElement message) =>
        message.TryGetProperty("extra_content", out var extra) && extra.ValueKind == JsonValueKind.Object
        && extra.TryGetProperty("google", out var google) && google.ValueKind == JsonValueKind.Object
        && google.TryGetProperty("thought_signature", out var signature) && signature.ValueKind == JsonValueKind.String
        && signature.GetString() is { Length: > 0 } sig && Base64.IsValid(sig)
            ? sig
            : null;

    internal static string? SignatureOf(JsonElement call, ThoughtSignatureBag? knownSignatures)
    {
        if (call.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (call.TryGetProperty("extra_content", out var extra) && extra.ValueKind == JsonValueKind.Object
            && extra.TryGetProperty("google", out var google) && google.ValueKind == JsonValueKind.Object
            && google.TryGetProperty("thought_signature", out var signature) && signature.ValueKind == JsonValueKind.String
            && signature.GetString() is { Length: > 0 } sig)
        {
            // A signature that is not even base64 was damaged on the way (or made up): Gemini would reject the
            // whole request, so it is treated as lost, and the placeholder rule applies instead.
            return Base64.IsValid(sig) ? sig : null;
        }

        return knownSignatures is not null && call.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            && knownSignatures.TryGet(id.GetString()!, out var known)
            ? known
            : null;
    }

    /// <summary>Ids of the assistant tool calls in a request that came back without a signature (to look up before translating).</summary>
    public static IReadOnlyList<string> UnsignedToolCallIds(JsonElement request)
    {
        var ids = new List<string>();
        if (request.ValueKind == JsonValueKind.Object && request.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    ids.AddRange(calls.EnumerateArray()
                        .Where(c => SignatureOf(c, null) is null && c.ValueKind == JsonValueKind.Object && c.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
                        .Select(c => c.GetProperty("id").GetString()!));
                }
            }
        }

        return ids;
    }

    internal static void WriteArguments(Utf8JsonWriter writer, JsonElement function, string param)
    {
        if (!function.TryGetProperty("arguments", out var arguments) || arguments.ValueKind == JsonValueKind.Null
            || (arguments.ValueKind == JsonValueKind.String && string.IsNullOrWhiteSpace(arguments.GetString())))
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
            return;
        }

        if (arguments.ValueKind == JsonValueKind.Object)
        {
            arguments.WriteTo(writer);
            return;
        }

        if (arguments.ValueKind != JsonValueKind.String)
        {
            throw new TranslationException(param, "Tool call arguments must be a string holding a JSON object.");
        }

        try
        {
            using var parsed = JsonDocument.Parse(arguments.GetString()!);
            if (parsed.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException(param, "Tool call arguments must be a JSON object.");
            }

            parsed.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            throw new TranslationException(param, "Tool call arguments are not valid JSON.");
        }
    }

    internal static void WriteToolResultPart(Utf8JsonWriter writer, JsonElement message, int index, string? id, string name, UpstreamModelProfile profile)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("functionResponse"u8);
        writer.WriteStartObject();
        if (id is not null && SendsId(profile, id))
        {
            writer.WriteString("id"u8, id);
        }

        writer.WriteString("name"u8, name);
        writer.WritePropertyName("response"u8);
        writer.WriteStartObject();
        writer.WritePropertyName("output"u8);
        WriteToolOutput(writer, message, index);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    internal static void WriteToolOutput(Utf8JsonWriter writer, JsonElement message, int index)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            writer.WriteStringValue(string.Empty);
            return;
        }

        string text;
        if (content.ValueKind == JsonValueKind.Array)
        {
            // Text parts are joined with line breaks; anything else (an image, say) has no place in a
            // functionResponse here, and dropping it would change what the model sees.
            var texts = new List<string>();
            var p = 0;
            foreach (var part in content.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || !ChatMessages.IsTextType(type)
                    || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                {
                    throw new TranslationException($"messages[{index}].content[{p}]", "Tool results sent to a Gemini model can hold only text parts.");
                }

                texts.Add(t.GetString()!);
                p++;
            }

            text = string.Join('\n', texts);
        }
        else
        {
            text = content.ValueKind == JsonValueKind.String ? content.GetString()! : content.GetRawText();
        }

        // A structured result stays structured: the model reads JSON better than JSON-in-a-string.
        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.Length > 0 && (trimmed[0] == '{' || trimmed[0] == '['))
        {
            try
            {
                using var parsed = JsonDocument.Parse(text);
                parsed.RootElement.WriteTo(writer);
                return;
            }
            catch (JsonException)
            {
                // Not JSON after all: send it as text.
            }
        }

        writer.WriteStringValue(text);
    }
}
