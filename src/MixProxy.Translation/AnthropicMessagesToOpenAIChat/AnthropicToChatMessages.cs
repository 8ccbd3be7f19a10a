using System.Text;
using System.Text.Json;
using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using static MixProxy.Translation.AnthropicMessages.AnthropicFields;

namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>
/// Anthropic <c>system</c> and <c>messages</c> → Chat Completions <c>messages</c>. A user turn's <c>tool_result</c>
/// blocks become <c>tool</c> messages (Chat wants them right after the assistant's calls), the rest of the turn a user
/// message; an assistant turn's text becomes its content and its <c>tool_use</c> blocks its <c>tool_calls</c>, each
/// with the thought signature a preceding thinking block sealed (<see cref="AnthropicThinking"/>). Thinking text is
/// never sent back: no upstream here reads it as its own reasoning. <c>cache_control</c> is accepted on every block and
/// has no counterpart.
/// </summary>
internal static class AnthropicToChatMessages
{
    public static void WriteMessages(Utf8JsonWriter writer, JsonElement request, bool towardsGemini, DroppedFields dropped)
    {
        var messages = OptionalArray(Get(request, "messages"), "messages");
        if (messages.ValueKind != JsonValueKind.Array)
        {
            throw new TranslationException("messages", "messages: Field required");
        }

        writer.WritePropertyName("messages"u8);
        writer.WriteStartArray();
        WriteSystem(writer, Get(request, "system"), "system");

        var i = 0;
        var last = messages.GetArrayLength() - 1;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{i}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException(param, $"{param}: Input should be an object");
            }

            foreach (var field in message.EnumerateObject())
            {
                if (field.Name is not ("role" or "content"))
                {
                    throw new TranslationException($"{param}.{field.Name}", $"{param}.{field.Name}: Extra inputs are not permitted");
                }
            }

            var content = Get(message, "content");
            if (content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            {
                throw new TranslationException(param + ".content", $"{param}.content: Field required (a string or a list of content blocks)");
            }

            switch (RequiredString(message, "role", param))
            {
                case "user":
                    WriteUserTurn(writer, content, param, towardsGemini, dropped);
                    break;
                case "assistant":
                    if (i == last)
                    {
                        // A final assistant turn asks Anthropic to continue that text; an upstream here would answer
                        // after it instead, a different answer.
                        throw new TranslationException(param, $"{param}: a final assistant message (prefill) cannot be continued by this gateway's models; end with a user message.");
                    }

                    WriteAssistantTurn(writer, content, param, towardsGemini);
                    break;
                case "system":
                    // Some clients put system text among the messages; Chat takes it there as it is.
                    WriteSystem(writer, content, param + ".content");
                    break;
                case var other:
                    throw new TranslationException(param + ".role", $"{param}.role: Input should be 'user' or 'assistant' (got '{other}')");
            }

            i++;
        }

        if (i == 0)
        {
            throw new TranslationException("messages", "messages: at least one message is required");
        }

        writer.WriteEndArray();
    }

    /// <summary>A system prompt, as a string or text blocks, as one Chat system message with the same text parts.</summary>
    private static void WriteSystem(Utf8JsonWriter writer, JsonElement system, string param)
    {
        if (system.ValueKind == JsonValueKind.String)
        {
            if (system.GetString()!.Length > 0)
            {
                writer.WriteStartObject();
                writer.WriteString("role"u8, "system");
                writer.WriteString("content"u8, system.GetString());
                writer.WriteEndObject();
            }

            return;
        }

        var blocks = OptionalArray(system, param);
        if (blocks.ValueKind != JsonValueKind.Array || blocks.GetArrayLength() == 0)
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("role"u8, "system");
        writer.WritePropertyName("content"u8);
        writer.WriteStartArray();
        var j = 0;
        foreach (var block in blocks.EnumerateArray())
        {
            var blockParam = $"{param}[{j++}]";
            if (TypeOf(block, blockParam) != "text")
            {
                throw new TranslationException(blockParam + ".type", $"{blockParam}.type: system blocks must be text blocks");
            }

            WriteTextPart(writer, RequiredString(block, "text", blockParam));
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteUserTurn(Utf8JsonWriter writer, JsonElement content, string param, bool towardsGemini, DroppedFields dropped)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartObject();
            writer.WriteString("role"u8, "user");
            writer.WriteString("content"u8, content.GetString());
            writer.WriteEndObject();
            return;
        }

        // Tool results first, as tool messages; images they returned, which no tool message can hold, open the user
        // message that follows them, before the turn's own blocks.
        var toolImages = new List<(JsonElement Image, string Param)>();
        var own = new List<(JsonElement Block, string Param)>();
        var j = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockParam = $"{param}.content[{j++}]";
            if (TypeOf(block, blockParam) == "tool_result")
            {
                WriteToolResult(writer, block, blockParam, toolImages);
            }
            else
            {
                own.Add((block, blockParam));
            }
        }

        if (toolImages.Count == 0 && own.Count == 0)
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("role"u8, "user");
        writer.WritePropertyName("content"u8);
        writer.WriteStartArray();
        foreach (var (image, imageParam) in toolImages)
        {
            WriteImagePart(writer, image, imageParam);
        }

        foreach (var (block, blockParam) in own)
        {
            WriteUserBlock(writer, block, blockParam, towardsGemini, dropped);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteUserBlock(Utf8JsonWriter writer, JsonElement block, string param, bool towardsGemini, DroppedFields dropped)
    {
        switch (TypeOf(block, param))
        {
            case "text":
                WriteTextPart(writer, RequiredString(block, "text", param));
                break;
            case "image":
                WriteImagePart(writer, block, param);
                break;
            case "document":
                WriteDocument(writer, block, param, towardsGemini, dropped);
                break;
            case "tool_use" or "thinking" or "redacted_thinking":
                throw new TranslationException(param + ".type", $"{param}.type: '{block.GetProperty("type").GetString()}' blocks belong in assistant messages");
            case var other:
                throw new TranslationException(param + ".type", $"{param}.type: '{other}' blocks are not supported on this gateway's models; it takes text, image, document and tool_result blocks from users.");
        }
    }

    /// <summary>A <c>tool_result</c> → a tool message with its text; its images are gathered for the user message after.</summary>
    private static void WriteToolResult(Utf8JsonWriter writer, JsonElement block, string param, List<(JsonElement, string)> images)
    {
        var id = RequiredString(block, "tool_use_id", param);
        var isError = ClientFields.OptionalBoolean(Get(block, "is_error"), param + ".is_error") == true;
        var text = new StringBuilder();
        var content = Get(block, "content");
        if (content.ValueKind == JsonValueKind.String)
        {
            text.Append(content.GetString());
        }
        else if (OptionalArray(content, param + ".content").ValueKind == JsonValueKind.Array)
        {
            var k = 0;
            foreach (var part in content.EnumerateArray())
            {
                var partParam = $"{param}.content[{k++}]";
                switch (TypeOf(part, partParam))
                {
                    case "text":
                        if (text.Length > 0)
                        {
                            text.Append('\n');
                        }

                        text.Append(RequiredString(part, "text", partParam));
                        break;
                    case "image":
                        images.Add((part, partParam));
                        break;
                    case var other:
                        throw new TranslationException(partParam + ".type", $"{partParam}.type: tool results on this gateway's models hold text and image blocks, not '{other}'.");
                }
            }
        }

        writer.WriteStartObject();
        writer.WriteString("role"u8, "tool");
        writer.WriteString("tool_call_id"u8, id);

        // Chat has no error flag on a tool result: a failed call's result goes as {"error": …}, the form Gemini's
        // function responses use for errors, which a model reads as a failure on any upstream.
        if (isError)
        {
            using var errorText = new System.IO.MemoryStream();
            using (var inner = new Utf8JsonWriter(errorText))
            {
                inner.WriteStartObject();
                inner.WriteString("error"u8, text.ToString());
                inner.WriteEndObject();
            }

            writer.WriteString("content"u8, Encoding.UTF8.GetString(errorText.ToArray()));
        }
        else
        {
            writer.WriteString("content"u8, text.ToString());
        }

        writer.WriteEndObject();
    }

    /// <summary>An <c>image</c> block → Chat's <c>image_url</c> part (a data: URL for base64 sources).</summary>
    private static void WriteImagePart(Utf8JsonWriter writer, JsonElement block, string param)
    {
        var sourceParam = param + ".source";
        var source = OptionalObject(Get(block, "source"), sourceParam);
        if (!IsSet(source))
        {
            throw new TranslationException(sourceParam, $"{sourceParam}: Field required");
        }

        var url = RequiredString(source, "type", sourceParam) switch
        {
            "base64" => DataUrl(source, sourceParam, ["image/jpeg", "image/png", "image/gif", "image/webp"]),
            "url" => RequiredString(source, "url", sourceParam),
            var other => throw new TranslationException(sourceParam + ".type", $"{sourceParam}.type: image sources on this gateway's models are 'base64' or 'url', not '{other}' (files uploaded to Anthropic are not reachable from here)."),
        };
        writer.WriteStartObject();
        writer.WriteString("type"u8, "image_url");
        writer.WritePropertyName("image_url"u8);
        writer.WriteStartObject();
        writer.WriteString("url"u8, url);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>
    /// A <c>document</c> block: a base64 PDF → Chat's <c>file</c> part; plain text (or content blocks) → text parts;
    /// a PDF by URL → on Gemini, a part Gemini fetches itself. <c>title</c> names the file, <c>context</c> goes before it
    /// as text. Citations of documents are not produced here: asking for them is dropped and reported.
    /// </summary>
    private static void WriteDocument(Utf8JsonWriter writer, JsonElement block, string param, bool towardsGemini, DroppedFields dropped)
    {
        var sourceParam = param + ".source";
        var source = OptionalObject(Get(block, "source"), sourceParam);
        if (!IsSet(source))
        {
            throw new TranslationException(sourceParam, $"{sourceParam}: Field required");
        }

        var title = ClientFields.OptionalString(Get(block, "title"), param + ".title");
        if (ClientFields.OptionalString(Get(block, "context"), param + ".context") is { Length: > 0 } context)
        {
            WriteTextPart(writer, context);
        }

        if (OptionalObject(Get(block, "citations"), param + ".citations") is { ValueKind: JsonValueKind.Object } citations
            && ClientFields.OptionalBoolean(Get(citations, "enabled"), param + ".citations.enabled") == true)
        {
            dropped.Drop(param + ".citations", "Document citations are not produced by this gateway's models.");
        }

        switch (RequiredString(source, "type", sourceParam))
        {
            case "base64":
                writer.WriteStartObject();
                writer.WriteString("type"u8, "file");
                writer.WritePropertyName("file"u8);
                writer.WriteStartObject();
                writer.WriteString("file_data"u8, DataUrl(source, sourceParam, ["application/pdf"]));
                writer.WriteString("filename"u8, title is { Length: > 0 } ? title : "document.pdf");
                writer.WriteEndObject();
                writer.WriteEndObject();
                break;
            case "text":
                OptionalChoice(Get(source, "media_type"), sourceParam + ".media_type", "text/plain");
                WriteTextPart(writer, RequiredString(source, "data", sourceParam));
                break;
            case "content":
                var inner = Get(source, "content");
                if (inner.ValueKind == JsonValueKind.String)
                {
                    WriteTextPart(writer, inner.GetString()!);
                    break;
                }

                var k = 0;
                foreach (var part in OptionalArray(inner, sourceParam + ".content").ValueKind == JsonValueKind.Array ? inner.EnumerateArray() : throw new TranslationException(sourceParam + ".content", $"{sourceParam}.content: Field required"))
                {
                    var partParam = $"{sourceParam}.content[{k++}]";
                    switch (TypeOf(part, partParam))
                    {
                        case "text":
                            WriteTextPart(writer, RequiredString(part, "text", partParam));
                            break;
                        case "image":
                            WriteImagePart(writer, part, partParam);
                            break;
                        case var other:
                            throw new TranslationException(partParam + ".type", $"{partParam}.type: document content holds text and image blocks, not '{other}'.");
                    }
                }

                break;
            case "url" when towardsGemini:
                // Gemini fetches a document by URL itself; the Chat → Gemini side takes any URL part as one.
                writer.WriteStartObject();
                writer.WriteString("type"u8, "image_url");
                writer.WritePropertyName("image_url"u8);
                writer.WriteStartObject();
                writer.WriteString("url"u8, RequiredString(source, "url", sourceParam));
                writer.WriteEndObject();
                writer.WriteEndObject();
                break;
            case "url":
                throw new TranslationException(sourceParam + ".type", $"{sourceParam}.type: Chat Completions upstreams take documents as data, not by URL; send the PDF as base64.");
            case var other:
                throw new TranslationException(sourceParam + ".type", $"{sourceParam}.type: document sources on this gateway's models are 'base64', 'text', 'content' or 'url', not '{other}'.");
        }
    }

    private static void WriteAssistantTurn(Utf8JsonWriter writer, JsonElement content, string param, bool towardsGemini)
    {
        writer.WriteStartObject();
        writer.WriteString("role"u8, "assistant");
        if (content.ValueKind == JsonValueKind.String)
        {
            writer.WriteString("content"u8, content.GetString());
            writer.WriteEndObject();
            return;
        }

        var text = new StringBuilder();
        var calls = new List<(string Id, string Name, JsonElement Input, string? Signature)>();
        string? pendingSignature = null;
        var j = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockParam = $"{param}.content[{j++}]";
            switch (TypeOf(block, blockParam))
            {
                case "text":
                    text.Append(RequiredString(block, "text", blockParam));
                    break;
                case "thinking":
                    // The text is the model's own reasoning, which no upstream here takes back; the signature, when the
                    // gateway sealed one, belongs to the next tool_use.
                    ClientFields.OptionalString(Get(block, "thinking"), blockParam + ".thinking");
                    pendingSignature = AnthropicThinking.Open(ClientFields.OptionalString(Get(block, "signature"), blockParam + ".signature")) ?? pendingSignature;
                    break;
                case "redacted_thinking":
                    // Claude's encrypted reasoning, from a conversation begun on Anthropic: nothing here can read it.
                    break;
                case "tool_use":
                    var input = OptionalObject(Get(block, "input"), blockParam + ".input");
                    calls.Add((RequiredString(block, "id", blockParam), RequiredString(block, "name", blockParam), input, pendingSignature));
                    pendingSignature = null;
                    break;
                case var other:
                    throw new TranslationException(blockParam + ".type", $"{blockParam}.type: '{other}' blocks are not supported in assistant messages on this gateway's models; it takes text, thinking and tool_use blocks.");
            }
        }

        if (text.Length > 0 || calls.Count == 0)
        {
            writer.WriteString("content"u8, text.ToString());
        }
        else
        {
            writer.WriteNull("content"u8);
        }

        if (calls.Count > 0)
        {
            writer.WritePropertyName("tool_calls"u8);
            writer.WriteStartArray();
            foreach (var (id, name, input, signature) in calls)
            {
                writer.WriteStartObject();
                writer.WriteString("id"u8, id);
                writer.WriteString("type"u8, "function");
                writer.WritePropertyName("function"u8);
                writer.WriteStartObject();
                writer.WriteString("name"u8, name);
                writer.WriteString("arguments"u8, IsSet(input) ? input.GetRawText() : "{}");
                writer.WriteEndObject();

                // Google's place for a thought signature on a Chat tool call; a real Chat upstream gets none.
                if (towardsGemini && signature is not null)
                {
                    writer.WritePropertyName("extra_content"u8);
                    writer.WriteStartObject();
                    writer.WritePropertyName("google"u8);
                    writer.WriteStartObject();
                    writer.WriteString("thought_signature"u8, signature);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>Ids of the <c>tool_use</c> blocks whose thought signature no sealed thinking block carries back.</summary>
    public static IReadOnlyList<string> UnsignedToolUseIds(JsonElement request)
    {
        var ids = new List<string>();
        if (Get(request, "messages") is not { ValueKind: JsonValueKind.Array } messages)
        {
            return ids;
        }

        foreach (var message in messages.EnumerateArray())
        {
            if (Get(message, "content") is not { ValueKind: JsonValueKind.Array } content)
            {
                continue;
            }

            var signed = false;
            foreach (var block in content.EnumerateArray())
            {
                var type = ClientFieldsOrNull(Get(block, "type"));
                if (type == "thinking" && AnthropicThinking.Open(ClientFieldsOrNull(Get(block, "signature"))) is not null)
                {
                    signed = true;
                }
                else if (type == "tool_use")
                {
                    if (!signed && ClientFieldsOrNull(Get(block, "id")) is { } id)
                    {
                        ids.Add(id);
                    }

                    signed = false;
                }
            }
        }

        return ids;

        static string? ClientFieldsOrNull(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    private static string DataUrl(JsonElement source, string param, string[] mediaTypes)
    {
        var mediaType = RequiredString(source, "media_type", param);
        if (!mediaTypes.Contains(mediaType, StringComparer.Ordinal))
        {
            throw new TranslationException(param + ".media_type", $"{param}.media_type: Input should be {string.Join(", ", mediaTypes.Select(m => $"'{m}'"))}");
        }

        return $"data:{mediaType};base64,{RequiredString(source, "data", param)}";
    }

    private static void WriteTextPart(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "text");
        writer.WriteString("text"u8, text);
        writer.WriteEndObject();
    }
}
