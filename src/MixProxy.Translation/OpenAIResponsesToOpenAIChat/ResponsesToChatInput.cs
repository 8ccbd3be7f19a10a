using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.Protocols;
using static MixProxy.Translation.OpenAIResponsesToOpenAIChat.ResponsesToChatFields;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>
/// Responses → Chat Completions: <c>instructions</c>, the continued conversation and <c>input</c> become
/// <c>messages</c>. Each run of the model's own items (assistant messages, function calls, reasoning) becomes one
/// assistant message, as the upstream produced it in one turn; a sealed signature in a reasoning item rides on the
/// tool call after it, where the Gemini side reads it.
/// </summary>
internal static class ResponsesToChatInput
{
    public static void WriteMessages(Utf8JsonWriter writer, JsonElement request, JsonElement? prior, DroppedFields dropped)
    {
        writer.WritePropertyName("messages"u8);
        writer.WriteStartArray();
        var conversation = new Conversation(writer, dropped);

        // Only this request's instructions: a previous response's are not carried over, as OpenAI documents.
        if (ClientFields.OptionalString(Get(request, "instructions"), "instructions") is { Length: > 0 } instructions)
        {
            conversation.WriteMessage("system", instructions);
        }

        if (prior is { } items)
        {
            if (items.ValueKind != JsonValueKind.Array)
            {
                throw new ArgumentException("The continued conversation must be a JSON array of items.", nameof(prior));
            }

            try
            {
                // What the stored conversation goes without is reported under the field that brought it.
                conversation.ReportDropsAs = "previous_response_id";
                conversation.WriteItems(items, "input");
            }
            catch (TranslationException e)
            {
                // The items came from earlier requests and responses, so the client can only fix this by starting over.
                throw new TranslationException("previous_response_id", $"The conversation of 'previous_response_id' cannot be continued on this route: {e.Message} (at {e.Param} of that conversation)");
            }

            conversation.ReportDropsAs = null;
        }

        var input = Get(request, "input");
        switch (input.ValueKind)
        {
            case JsonValueKind.Undefined:
                break;
            case JsonValueKind.String:
                conversation.WriteMessage("user", input.GetString()!);
                break;
            case JsonValueKind.Array:
                conversation.WriteItems(input, "input");
                break;
            default:
                throw new TranslationException("input", "'input' must be a string or an array of input items.");
        }

        conversation.EndAssistantTurn();
        if (conversation.Messages == 0)
        {
            throw new TranslationException("input", "Missing required parameter: 'input'.");
        }

        writer.WriteEndArray();
    }

    /// <summary>What an item is, read leniently: a message without <c>type</c> is a message by its <c>role</c>.</summary>
    private static string? KindOf(JsonElement item) =>
        item.ValueKind != JsonValueKind.Object ? null
        : item.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString()
        : item.TryGetProperty("role", out _) ? "message"
        : null;

    private static bool IsAssistantMessage(JsonElement item) =>
        item.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String && role.ValueEquals("assistant"u8);

    /// <summary>
    /// Which signature each function call carries: the one sealed in the reasoning item before it within the same
    /// model turn. One walk for translation and for <see cref="ResponsesToChatRequestTranslator.UnsignedCallIds"/>,
    /// so the host looks up exactly the calls translation leaves unsigned. Never throws.
    /// </summary>
    internal sealed class SignatureTracker
    {
        private string? _pending;

        /// <summary>Steps past <paramref name="item"/>; for a function call, returns the signature it carries.</summary>
        public string? Step(JsonElement item)
        {
            switch (KindOf(item))
            {
                case "reasoning":
                    // Content sealed elsewhere (OpenAI's own encrypted reasoning) opens to nothing and is no signature.
                    if (item.TryGetProperty("encrypted_content", out var sealedContent) && sealedContent.ValueKind == JsonValueKind.String
                        && ResponsesReasoning.Open(sealedContent.GetString()) is { } signature)
                    {
                        _pending = signature;
                    }

                    return null;
                case "function_call":
                    var carried = _pending;
                    _pending = null;
                    return carried;
                case "web_search_call" or "image_generation_call":
                    return null;
                case "message" when IsAssistantMessage(item):
                    return null;
                default:
                    // The model's turn is over: a signature no call took is dropped with it.
                    _pending = null;
                    return null;
            }
        }
    }

    /// <summary>The messages written so far and the model turn being gathered.</summary>
    private sealed class Conversation(Utf8JsonWriter writer, DroppedFields dropped)
    {
        /// <summary>The field reported for what is dropped (the stored conversation's items), instead of the item's own position.</summary>
        public string? ReportDropsAs { get; set; }

        private readonly SignatureTracker _signatures = new();
        private readonly HashSet<string> _callIds = new(StringComparer.Ordinal);

        // The open model turn: its text (as string elements) and its calls, written out when the turn ends.
        private readonly List<JsonElement> _turnTexts = [];
        private readonly List<(string Id, string Name, string Arguments, string? Signature)> _turnCalls = [];

        // Open once the model said or called something; reasoning alone opens nothing, as it writes nothing.
        private bool _turnOpen;

        public int Messages { get; private set; }

        public void WriteMessage(string role, string content)
        {
            EndAssistantTurn();
            writer.WriteStartObject();
            writer.WriteString("role"u8, role);
            writer.WriteString("content"u8, content);
            writer.WriteEndObject();
            Messages++;
        }

        public void WriteItems(JsonElement items, string arrayParam)
        {
            var i = 0;
            foreach (var item in items.EnumerateArray())
            {
                var param = $"{arrayParam}[{i++}]";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    throw new TranslationException(param, "Each input item must be an object.");
                }

                var signature = _signatures.Step(item);
                var type = ClientFields.OptionalString(item, "type", param);
                if (type is null && !item.TryGetProperty("role", out _))
                {
                    throw item.TryGetProperty("id", out _)
                        ? ItemReferenceRefused(param)
                        : new TranslationException(param + ".type", "Each input item needs a 'type' (or a 'role', for a message).");
                }

                switch (type ?? "message")
                {
                    case "message":
                        WriteMessageItem(item, param);
                        break;
                    case "function_call":
                        AddCall(item, param, signature);
                        break;
                    case "function_call_output":
                        WriteToolResult(item, param);
                        break;
                    case "reasoning":
                        // The model's own thoughts are not sent back: Chat has no place for them, and the upstream
                        // recovers its reasoning from the signature alone (taken by the tracker above). The summary,
                        // reasoning text and content sealed elsewhere are dropped on purpose: they are the model's
                        // notes to itself (or another vendor's), not content of the client's.
                        ClientFields.OptionalString(item, "encrypted_content", param);
                        break;
                    case "web_search_call":
                        // The record of a search the upstream ran itself: its results already shaped the answer that
                        // follows it, and the model does not need to be told it searched.
                        break;
                    case "image_generation_call":
                        // An image the model drew (Gemini's image output comes back as these items). A Chat assistant
                        // message holds text and calls only, so the image goes without, as a Chat client's
                        // message.images would: the model keeps what it said about it. Reported, and refused on a
                        // strict model, since the model no longer sees what it drew.
                        ClientFields.OptionalString(item, "result", param);
                        var droppedAs = ReportDropsAs ?? param;
                        if (!dropped.Names.Contains(droppedAs))
                        {
                            dropped.Drop(droppedAs, "An image the model drew cannot go back to this upstream: Chat assistant messages hold text and tool calls only.");
                        }

                        break;
                    case "item_reference":
                        throw ItemReferenceRefused(param);
                    case var other:
                        throw new TranslationException(param + ".type", $"Input items of type '{other}' are not supported on this route.");
                }
            }
        }

        private static TranslationException ItemReferenceRefused(string param) =>
            new(param, "Item references are not supported by this gateway; send the item itself.");

        /// <summary>Writes the gathered model turn as one assistant message: its text, then its tool calls.</summary>
        public void EndAssistantTurn()
        {
            if (!_turnOpen)
            {
                return;
            }

            _turnOpen = false;
            writer.WriteStartObject();
            writer.WriteString("role"u8, "assistant");
            if (_turnTexts.Count == 0 && _turnCalls.Count == 0)
            {
                // An assistant message that said nothing: Chat wants content on a message without calls, and refuses an empty list.
                writer.WriteString("content"u8, string.Empty);
            }
            else if (_turnTexts.Count > 0)
            {
                writer.WritePropertyName("content"u8);
                writer.WriteStartArray();
                foreach (var text in _turnTexts)
                {
                    WriteTextPart(text);
                }

                writer.WriteEndArray();
            }

            if (_turnCalls.Count > 0)
            {
                writer.WritePropertyName("tool_calls"u8);
                writer.WriteStartArray();
                foreach (var (id, name, arguments, signature) in _turnCalls)
                {
                    ChatToolCallWriter.Write(writer, id, name, arguments, signature);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            Messages++;
            _turnTexts.Clear();
            _turnCalls.Clear();
        }

        private void WriteMessageItem(JsonElement item, string param)
        {
            var role = RequiredString(item, "role", param);
            if (!item.TryGetProperty("content", out var content) || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            {
                throw new TranslationException(param + ".content", "'content' must be a string or an array of content parts.");
            }

            switch (role)
            {
                case "assistant":
                    _turnOpen = true;
                    AddAssistantContent(content, param);
                    return;
                case "user" or "system" or "developer":
                    EndAssistantTurn();
                    break;
                default:
                    throw new TranslationException(param + ".role", $"Invalid value for 'role': '{role}'. Supported values are: 'user', 'assistant', 'system', 'developer'.");
            }

            // Validated whole before anything is written, so a refusal leaves no half-written message behind.
            if (content.ValueKind == JsonValueKind.Array)
            {
                CheckInputParts(content, param, textOnly: role != "user");
            }

            writer.WriteStartObject();
            writer.WriteString("role"u8, role);
            writer.WritePropertyName("content"u8);
            if (content.ValueKind == JsonValueKind.String)
            {
                content.WriteTo(writer);
            }
            else
            {
                writer.WriteStartArray();
                foreach (var part in content.EnumerateArray())
                {
                    WriteInputPart(part);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            Messages++;
        }

        private void AddAssistantContent(JsonElement content, string param)
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                _turnTexts.Add(content);
                return;
            }

            var p = 0;
            foreach (var part in content.EnumerateArray())
            {
                var partParam = $"{param}.content[{p++}]";
                switch (PartType(part, partParam))
                {
                    case "output_text" or "input_text":
                        _turnTexts.Add(TextOf(part, "text", partParam));
                        break;
                    case "refusal":
                        // Kept as text: the model's refusal is part of what it said, and dropping it would have it
                        // forget it refused. Chat's own refusal part would not do: the Gemini side reads text only.
                        _turnTexts.Add(TextOf(part, "refusal", partParam));
                        break;
                    case var other:
                        throw new TranslationException(partParam + ".type", $"Content part type '{other}' is not supported in assistant messages; they hold 'output_text' and 'refusal' parts.");
                }
            }
        }

        private void AddCall(JsonElement item, string param, string? signature)
        {
            _turnOpen = true;

            // The call is known by its call_id on both sides; the item's own id (fc_…) names it only to the client.
            var callId = RequiredString(item, "call_id", param);
            var name = RequiredString(item, "name", param);
            var arguments = RequiredString(item, "arguments", param);
            _callIds.Add(callId);
            _turnCalls.Add((callId, name, arguments, signature));
        }

        private void WriteToolResult(JsonElement item, string param)
        {
            EndAssistantTurn();
            var callId = RequiredString(item, "call_id", param);
            if (!_callIds.Contains(callId))
            {
                throw new TranslationException(param + ".call_id", $"No tool call found for function call output with call_id '{callId}'.");
            }

            if (!item.TryGetProperty("output", out var output) || output.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            {
                throw new TranslationException(param + ".output", "'output' must be a string or an array of content parts.");
            }

            // Chat tool messages (and, behind them, Gemini function responses) hold text only; an image or file in a
            // tool result is refused rather than dropped, since the model would answer without having seen it.
            var texts = new List<JsonElement>();
            if (output.ValueKind == JsonValueKind.Array)
            {
                var p = 0;
                foreach (var part in output.EnumerateArray())
                {
                    var partParam = $"{param}.output[{p++}]";
                    switch (PartType(part, partParam))
                    {
                        case "input_text":
                            texts.Add(TextOf(part, "text", partParam));
                            break;
                        case "input_image" or "input_file":
                            throw new TranslationException(partParam, "Tool results on this route can hold only text: images and files in function_call_output are not supported.");
                        case var other:
                            throw new TranslationException(partParam + ".type", $"Content part type '{other}' is not supported in function_call_output.");
                    }
                }
            }

            writer.WriteStartObject();
            writer.WriteString("role"u8, "tool");
            writer.WriteString("tool_call_id"u8, callId);
            writer.WritePropertyName("content"u8);
            if (output.ValueKind == JsonValueKind.String)
            {
                output.WriteTo(writer);
            }
            else if (texts.Count == 0)
            {
                writer.WriteStringValue(string.Empty);
            }
            else
            {
                writer.WriteStartArray();
                foreach (var text in texts)
                {
                    WriteTextPart(text);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            Messages++;
        }

        /// <summary>Checks the parts of a user, system or developer message; the latter two hold text only, in Chat as in Gemini.</summary>
        private static void CheckInputParts(JsonElement content, string param, bool textOnly)
        {
            var p = 0;
            foreach (var part in content.EnumerateArray())
            {
                var partParam = $"{param}.content[{p++}]";
                switch (PartType(part, partParam))
                {
                    case "input_text":
                        TextOf(part, "text", partParam);
                        break;
                    case "input_image" or "input_file" when textOnly:
                        throw new TranslationException(partParam + ".type", "System and developer messages may only contain text parts.");
                    case "input_image":
                        CheckImage(part, partParam);
                        break;
                    case "input_file":
                        CheckFile(part, partParam);
                        break;
                    case var other:
                        throw new TranslationException(partParam + ".type", $"Content part type '{other}' is not supported in {(textOnly ? "system and developer" : "user")} messages.");
                }
            }
        }

        private static void CheckImage(JsonElement part, string param)
        {
            ImageDetail(part, param);
            if (ClientFields.OptionalString(part, "image_url", param) is { Length: > 0 })
            {
                return;
            }

            if (ClientFields.OptionalString(part, "file_id", param) is not null)
            {
                throw new TranslationException(param + ".file_id", "Uploaded files are not available through this gateway; send the image as 'image_url' (an https or data: URL).");
            }

            throw new TranslationException(param + ".image_url", "An input_image needs 'image_url'.");
        }

        /// <summary>Chat's image <c>detail</c> values; <c>original</c> (full resolution) has no Chat or Gemini counterpart.</summary>
        private static string? ImageDetail(JsonElement part, string param) =>
            OptionalChoice(Get(part, "detail"), param + ".detail", "auto", "low", "high");

        private static void CheckFile(JsonElement part, string param)
        {
            ClientFields.OptionalString(part, "filename", param);
            if (ClientFields.OptionalString(part, "file_data", param) is { Length: > 0 } || ClientFields.OptionalString(part, "file_url", param) is { Length: > 0 })
            {
                return;
            }

            if (ClientFields.OptionalString(part, "file_id", param) is not null)
            {
                throw new TranslationException(param + ".file_id", "Uploaded files are not available through this gateway; send the file as 'file_data' or 'file_url'.");
            }

            throw new TranslationException(param + ".file_data", "An input_file needs 'file_data' or 'file_url'.");
        }

        /// <summary>Writes one part <see cref="CheckInputParts"/> accepted.</summary>
        private void WriteInputPart(JsonElement part)
        {
            switch (part.GetProperty("type").GetString())
            {
                case "input_text":
                    WriteTextPart(part.GetProperty("text"));
                    break;
                case "input_image":
                    writer.WriteStartObject();
                    writer.WriteString("type"u8, "image_url");
                    writer.WritePropertyName("image_url"u8);
                    writer.WriteStartObject();
                    writer.WriteString("url"u8, part.GetProperty("image_url").GetString());
                    if (part.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
                    {
                        writer.WriteString("detail"u8, detail.GetString());
                    }

                    writer.WriteEndObject();
                    writer.WriteEndObject();
                    break;
                default:
                    WriteFilePart(part);
                    break;
            }
        }

        /// <summary>
        /// An input file as Chat's <c>file</c> part. Data goes as <c>file_data</c> as given (a data: URL, or base64
        /// with a filename). A <c>file_url</c> goes as <c>file_id</c>: Chat has no URL form for files, and that is
        /// where the Gemini side takes a URL to hand to Gemini (its <c>file_data</c> is inline data only). A real
        /// OpenAI upstream refuses such an id itself, as it has no way to fetch a file by URL in Chat either.
        /// </summary>
        private void WriteFilePart(JsonElement part)
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "file");
            writer.WritePropertyName("file"u8);
            writer.WriteStartObject();
            if (part.TryGetProperty("file_data", out var data) && data.ValueKind == JsonValueKind.String && data.GetString()!.Length > 0)
            {
                writer.WritePropertyName("file_data"u8);
                data.WriteTo(writer);
            }
            else
            {
                writer.WritePropertyName("file_id"u8);
                part.GetProperty("file_url").WriteTo(writer);
            }

            if (part.TryGetProperty("filename", out var filename) && filename.ValueKind == JsonValueKind.String)
            {
                writer.WritePropertyName("filename"u8);
                filename.WriteTo(writer);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        private void WriteTextPart(JsonElement text)
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "text");
            writer.WritePropertyName("text"u8);
            text.WriteTo(writer);
            writer.WriteEndObject();
        }

        private static string PartType(JsonElement part, string param)
        {
            if (part.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException(param, "Each content part must be an object.");
            }

            return RequiredString(part, "type", param);
        }

        private static JsonElement TextOf(JsonElement part, string name, string param)
        {
            if (!part.TryGetProperty(name, out var text) || text.ValueKind != JsonValueKind.String)
            {
                throw new TranslationException(param + "." + name, $"'{name}' must be a string.");
            }

            return text;
        }
    }
}
