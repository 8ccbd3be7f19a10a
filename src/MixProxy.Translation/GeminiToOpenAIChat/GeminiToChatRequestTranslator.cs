using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.GeminiToOpenAIChat;

/// <summary>
/// Translates a Gemini <c>generateContent</c> request (camelCase or snake_case, as the REST API accepts both) into
/// an OpenAI Chat Completions request, for Gemini clients of models served by OpenAI-compatible upstreams.
/// </summary>
public static class GeminiToChatRequestTranslator
{
    /// <summary>
    /// Writes the Chat Completions request for a Gemini <paramref name="request"/>; fields the upstream has no place for
    /// and that do not change the question go to <paramref name="dropped"/> (none are dropped silently).
    /// </summary>
    public static void Translate(JsonElement request, UpstreamModelProfile profile, bool stream, IBufferWriter<byte> output, DroppedFields? dropped = null)
    {
        dropped ??= new DroppedFields(profile?.StrictTranslation ?? false);
        ArgumentNullException.ThrowIfNull(profile);
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(null, "The request body must be a JSON object.");
        }

        // Every field Gemini defines is read here, or dropped and reported, or refused; one it does not define is
        // refused, as Google refuses it. Each value is type-checked where it is read: a field of the wrong JSON type
        // is refused by name there, and anything else thrown here is a bug of the gateway's, not the client's (the
        // host answers 500 and logs it).
        GeminiRequestInventory.Check(request, dropped);
        if (TryGet(request, "cachedContent", "cached_content", out var cached, out var cachedName) && cached.ValueKind != JsonValueKind.Null)
        {
            // The cache holds part of the question (a manual, a codebase) on Google's side: without it the upstream
            // would answer another question, and bill for it.
            throw new TranslationException(cachedName, "A cached context lives on Google's side, where an OpenAI-protocol model cannot read it: send its contents in the request instead.");
        }

        // Chat Completions has no per-request safety thresholds (the upstream applies its own policy) and no billing
        // labels: neither changes the question, so each is dropped and reported, as the policy says.
        if (TryGet(request, "safetySettings", "safety_settings", out var safety, out var safetyName) && safety.ValueKind != JsonValueKind.Null)
        {
            if (safety.ValueKind != JsonValueKind.Array)
            {
                throw new TranslationException(safetyName, $"'{safetyName}' must be an array.");
            }

            if (safety.GetArrayLength() > 0)
            {
                dropped.Drop(safetyName, "OpenAI-protocol models take no safety thresholds.");
            }
        }

        if (TryGet(request, "labels", "labels", out var labels, out var labelsName) && labels.ValueKind != JsonValueKind.Null)
        {
            if (labels.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException(labelsName, "'labels' must be an object.");
            }

            if (labels.EnumerateObject().Any())
            {
                dropped.Drop(labelsName, "OpenAI-protocol models take no billing labels.");
            }
        }

        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("model"u8, profile.UpstreamModel);
        WriteMessages(writer, request);
        WriteGenerationConfig(writer, request, profile, dropped);
        WriteTools(writer, request);
        if (stream)
        {
            writer.WriteBoolean("stream"u8, true);
            writer.WritePropertyName("stream_options"u8);
            writer.WriteStartObject();
            writer.WriteBoolean("include_usage"u8, true);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>A field by its camelCase or snake_case name.</summary>
    internal static bool TryGet(JsonElement element, string camel, string snake, out JsonElement value) => TryGet(element, camel, snake, out value, out _);

    /// <summary>As above, with the name the client spelled it by, for refusals that name it as the client wrote it.</summary>
    internal static bool TryGet(JsonElement element, string camel, string snake, out JsonElement value, out string name)
    {
        value = default;
        name = camel;
        if (element.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (element.TryGetProperty(camel, out value))
        {
            return true;
        }

        name = snake;
        return element.TryGetProperty(snake, out value);
    }

    /// <summary>
    /// Part <paramref name="index"/> of the <c>parts</c> of <paramref name="param"/> (a content or the system
    /// instruction): anything but an object is refused. The part's own param is only spelled out for the refusal.
    /// </summary>
    private static JsonElement RequirePart(JsonElement part, string param, int index) =>
        part.ValueKind == JsonValueKind.Object ? part : throw new TranslationException($"{param}.parts[{index}]", "Each part must be an object.");

    // :: Messages ---------------------------------------------------------------------------------

    private static void WriteMessages(Utf8JsonWriter writer, JsonElement request)
    {
        writer.WritePropertyName("messages"u8);
        writer.WriteStartArray();

        if (TryGet(request, "systemInstruction", "system_instruction", out var system, out var systemName))
        {
            var text = system.ValueKind switch
            {
                JsonValueKind.String => system.GetString(),
                JsonValueKind.Null => null,
                JsonValueKind.Object => string.Join("\n", SystemTexts(system, systemName)),
                _ => throw new TranslationException(systemName, $"'{systemName}' must be an object (a content with text parts)."),
            };
            if (!string.IsNullOrEmpty(text))
            {
                writer.WriteStartObject();
                writer.WriteString("role"u8, "system");
                writer.WriteString("content"u8, text);
                writer.WriteEndObject();
            }
        }

        if (!request.TryGetProperty("contents", out var contents) || contents.ValueKind != JsonValueKind.Array || contents.GetArrayLength() == 0)
        {
            throw new TranslationException("contents", "'contents' must be a non-empty array.");
        }

        // The request-wide media resolution is the detail of every image part that does not set its own.
        var config = TryGet(request, "generationConfig", "generation_config", out var gc) ? gc : default;
        var defaultDetail = TryGet(config, "mediaResolution", "media_resolution", out var resolution) ? DetailFor(resolution) : null;

        // Calls the model made, waiting for their responses: matched by id, else first-come by name.
        var pending = new List<(string Id, string Name)>();
        var callCount = 0;
        var c = 0;
        foreach (var content in contents.EnumerateArray())
        {
            var param = $"contents[{c++}]";
            if (content.ValueKind != JsonValueKind.Object || !content.TryGetProperty("parts", out var parts) || parts.ValueKind != JsonValueKind.Array)
            {
                throw new TranslationException(param + ".parts", "Each content needs a 'parts' array.");
            }

            var role = ClientFields.OptionalString(content, "role", param) ?? "user";
            if (role == "model")
            {
                WriteAssistant(writer, parts, param, pending, ref callCount);
            }
            else if (role is "user" or "function" or "tool" or "" or null)
            {
                WriteUser(writer, parts, param, pending, defaultDetail);
            }
            else
            {
                throw new TranslationException(param + ".role", $"Unknown role '{role}'.");
            }
        }

        writer.WriteEndArray();
    }

    /// <summary>The text parts of a system instruction; parts of other kinds (and a text of another type) add nothing.</summary>
    /// <summary>
    /// The texts of the system instruction's parts. Chat Completions takes a system message as text only, so a part
    /// that is not text (or a text that is not a string) is refused rather than left out of the instruction.
    /// </summary>
    private static List<string> SystemTexts(JsonElement content, string param)
    {
        var texts = new List<string>();
        if (!content.TryGetProperty("parts", out var parts) || parts.ValueKind == JsonValueKind.Null)
        {
            return texts;
        }

        if (parts.ValueKind != JsonValueKind.Array)
        {
            throw new TranslationException(param + ".parts", "'parts' must be an array.");
        }

        var p = 0;
        foreach (var part in parts.EnumerateArray())
        {
            var partParam = $"{param}.parts[{p}]";
            var checkedPart = RequirePart(part, param, p++);
            if (checkedPart.TryGetProperty("text", out var t))
            {
                texts.Add(ClientFields.OptionalString(t, partParam + ".text") ?? string.Empty);
            }
            else if (checkedPart.EnumerateObject().Any())
            {
                throw new TranslationException(partParam, "Only text parts can be sent as a system instruction to an OpenAI-protocol model.");
            }
        }

        return texts;
    }

    private static bool IsThought(JsonElement part) => part.TryGetProperty("thought", out var t) && t.ValueKind == JsonValueKind.True;

    private static void WriteAssistant(Utf8JsonWriter writer, JsonElement parts, string param, List<(string Id, string Name)> pending, ref int callCount)
    {
        var text = new StringBuilder();
        var calls = new List<(string Id, string Name, string Arguments)>();
        var p = 0;
        foreach (var part in parts.EnumerateArray())
        {
            if (TryGet(RequirePart(part, param, p), "functionCall", "function_call", out var call, out var callName))
            {
                var callParam = $"{param}.parts[{p}].{callName}";
                if (call.ValueKind != JsonValueKind.Object)
                {
                    throw new TranslationException(callParam, $"'{callName}' must be an object.");
                }

                var name = call.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new TranslationException(callParam + ".name", $"A {callName} needs a name.");
                var id = ClientFields.OptionalString(call, "id", callParam) is { Length: > 0 } given ? given : "call_" + (++callCount).ToString(CultureInfo.InvariantCulture);
                var args = call.TryGetProperty("args", out var a) && a.ValueKind == JsonValueKind.Object ? Compact(a) : "{}";
                calls.Add((id, name, args));
                pending.Add((id, name));
            }
            else if (part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                if (!IsThought(part))
                {
                    text.Append(t.GetString());
                }
            }
            else if (TryGet(part, "inlineData", "inline_data", out _) || TryGet(part, "fileData", "file_data", out _))
            {
                // A Chat assistant message holds text and tool calls only: media the model produced (an image it drew)
                // would vanish from the history the upstream reads.
                throw new TranslationException($"{param}.parts[{p}]", "Media in a model turn cannot be sent to an OpenAI-protocol model: its assistant messages hold text and tool calls.");
            }

            p++;
        }

        writer.WriteStartObject();
        writer.WriteString("role"u8, "assistant");
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
            foreach (var (id, name, arguments) in calls)
            {
                ChatToolCallWriter.Write(writer, id, name, arguments);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// A Gemini media resolution as an OpenAI image <c>detail</c>: low and high map across; medium and unspecified have
    /// no OpenAI equivalent and leave the choice to the model (no <c>detail</c>, which means <c>auto</c>).
    /// </summary>
    private static string? DetailFor(JsonElement resolution)
    {
        var level = resolution.ValueKind switch
        {
            JsonValueKind.String => resolution.GetString(),
            JsonValueKind.Object when resolution.TryGetProperty("level", out var l) && l.ValueKind == JsonValueKind.String => l.GetString(),
            _ => null,
        };
        return level switch
        {
            "MEDIA_RESOLUTION_LOW" => "low",
            "MEDIA_RESOLUTION_HIGH" or "MEDIA_RESOLUTION_ULTRA_HIGH" => "high",
            _ => null,
        };
    }

    private static void WriteUser(Utf8JsonWriter writer, JsonElement parts, string param, List<(string Id, string Name)> pending, string? defaultDetail)
    {
        // Tool results first: OpenAI wants them right after the assistant message that made the calls.
        var p = 0;
        foreach (var part in parts.EnumerateArray())
        {
            if (TryGet(RequirePart(part, param, p), "functionResponse", "function_response", out var response, out var responseName))
            {
                var responseParam = $"{param}.parts[{p}].{responseName}";
                if (response.ValueKind != JsonValueKind.Object)
                {
                    throw new TranslationException(responseParam, $"'{responseName}' must be an object.");
                }

                var name = response.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : string.Empty;
                var at = ClientFields.OptionalString(response, "id", responseParam) is { Length: > 0 } id
                    ? pending.FindIndex(c => c.Id == id)
                    : pending.FindIndex(c => c.Name == name);
                if (at < 0)
                {
                    throw new TranslationException(responseParam, $"This functionResponse ('{name}') answers no functionCall made earlier in the conversation.");
                }

                var callId = pending[at].Id;
                pending.RemoveAt(at);
                writer.WriteStartObject();
                writer.WriteString("role"u8, "tool");
                writer.WriteString("tool_call_id"u8, callId);
                writer.WriteString("content"u8, ToolContent(response));
                writer.WriteEndObject();
            }

            p++;
        }

        var items = new List<Action<Utf8JsonWriter>>();
        p = 0;
        foreach (var part in parts.EnumerateArray())
        {
            var partParam = $"{param}.parts[{p++}]";
            if (part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String && !IsThought(part))
            {
                var text = t.GetString()!;
                items.Add(w => WriteTextItem(w, text));
            }
            else if (TryGet(part, "inlineData", "inline_data", out var inline, out var inlineName))
            {
                items.Add(InlineItem(inline, $"{partParam}.{inlineName}", PartDetail(part, defaultDetail)));
            }
            else if (TryGet(part, "fileData", "file_data", out var file, out var fileName))
            {
                items.Add(FileItem(file, $"{partParam}.{fileName}", PartDetail(part, defaultDetail)));
            }
            else if (!TryGet(part, "functionResponse", "function_response", out _) && !IsThought(part) && !part.TryGetProperty("thoughtSignature", out _))
            {
                throw new TranslationException(partParam, "This part type cannot be sent to an OpenAI-protocol model.");
            }
        }

        if (items.Count == 0)
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("role"u8, "user");
        writer.WritePropertyName("content"u8);
        writer.WriteStartArray();
        foreach (var item in items)
        {
            item(writer);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Google's convention puts a function's result under "output"; a lone string output is sent as is.</summary>
    private static string ToolContent(JsonElement functionResponse)
    {
        if (!functionResponse.TryGetProperty("response", out var response))
        {
            return string.Empty;
        }

        if (response.ValueKind == JsonValueKind.Object && response.TryGetProperty("output", out var output) && response.EnumerateObject().Count() == 1)
        {
            return output.ValueKind == JsonValueKind.String ? output.GetString()! : Compact(output);
        }

        return Compact(response);
    }

    private static void WriteTextItem(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "text");
        writer.WriteString("text"u8, text);
        writer.WriteEndObject();
    }

    /// <summary>A part's own resolution decides its detail, even one with no OpenAI equivalent (medium: no detail).</summary>
    private static string? PartDetail(JsonElement part, string? requestDetail) =>
        TryGet(part, "mediaResolution", "media_resolution", out var resolution) ? DetailFor(resolution) : requestDetail;

    private static void WriteImageItem(Utf8JsonWriter w, string url, string? detail)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "image_url");
        w.WritePropertyName("image_url"u8);
        w.WriteStartObject();
        w.WriteString("url"u8, url);
        if (detail is not null)
        {
            w.WriteString("detail"u8, detail);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    // param: the inlineData field, as the client spelled it.
    private static Action<Utf8JsonWriter> InlineItem(JsonElement inline, string param, string? detail)
    {
        if (inline.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(param, $"'{ClientFields.Leaf(param)}' must be an object.");
        }

        var mime = (TryGet(inline, "mimeType", "mime_type", out var m, out var mimeName) ? ClientFields.OptionalString(m, $"{param}.{mimeName}") : null) ?? string.Empty;
        var data = ClientFields.OptionalString(inline, "data", param) ?? string.Empty;
        if (mime.StartsWith("image/", StringComparison.Ordinal))
        {
            return w => WriteImageItem(w, $"data:{mime};base64,{data}", detail);
        }

        var audioFormat = mime switch { "audio/wav" or "audio/x-wav" => "wav", "audio/mp3" or "audio/mpeg" => "mp3", _ => null };
        if (audioFormat is not null)
        {
            return w =>
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "input_audio");
                w.WritePropertyName("input_audio"u8);
                w.WriteStartObject();
                w.WriteString("data"u8, data);
                w.WriteString("format"u8, audioFormat);
                w.WriteEndObject();
                w.WriteEndObject();
            };
        }

        if (mime == "application/pdf")
        {
            return w =>
            {
                w.WriteStartObject();
                w.WriteString("type"u8, "file");
                w.WritePropertyName("file"u8);
                w.WriteStartObject();
                w.WriteString("filename"u8, "document.pdf");
                w.WriteString("file_data"u8, $"data:{mime};base64,{data}");
                w.WriteEndObject();
                w.WriteEndObject();
            };
        }

        throw new TranslationException($"{param}.{mimeName}", $"Inline data of type '{mime}' cannot be sent to an OpenAI-protocol model (images, wav/mp3 audio and PDF can).");
    }

    // param: the fileData field, as the client spelled it.
    private static Action<Utf8JsonWriter> FileItem(JsonElement file, string param, string? detail)
    {
        if (file.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(param, $"'{ClientFields.Leaf(param)}' must be an object.");
        }

        var uri = (TryGet(file, "fileUri", "file_uri", out var u, out var uriName) ? ClientFields.OptionalString(u, $"{param}.{uriName}") : null) ?? string.Empty;
        var mime = (TryGet(file, "mimeType", "mime_type", out var m, out var mimeName) ? ClientFields.OptionalString(m, $"{param}.{mimeName}") : null) ?? string.Empty;
        if ((uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            && (mime.Length == 0 || mime.StartsWith("image/", StringComparison.Ordinal)))
        {
            return w => WriteImageItem(w, uri, detail);
        }

        throw new TranslationException(param, "Only http(s) image URLs can be sent to an OpenAI-protocol model as fileData.");
    }

    // :: Generation config and tools --------------------------------------------------------------

    private static void WriteGenerationConfig(Utf8JsonWriter writer, JsonElement request, UpstreamModelProfile profile, DroppedFields dropped)
    {
        if (!TryGet(request, "generationConfig", "generation_config", out var config, out var configName) || config.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        // Every knob here changes the answer: one of the wrong JSON type is refused, not dropped.
        if (config.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(configName, $"'{configName}' must be an object.");
        }

        void Number(string camel, string snake, ReadOnlySpan<byte> openAI, bool integer)
        {
            if (!TryGet(config, camel, snake, out var v, out var name) || v.ValueKind == JsonValueKind.Null)
            {
                return;
            }

            // Google's proto3 JSON takes numbers written as strings too ("100"); OpenAI wants them as numbers.
            if (v.ValueKind == JsonValueKind.String)
            {
                var text = v.GetString();
                if (integer && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsedInteger))
                {
                    writer.WriteNumber(openAI, parsedInteger);
                    return;
                }

                if (!integer && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsedNumber) && double.IsFinite(parsedNumber))
                {
                    writer.WriteNumber(openAI, parsedNumber);
                    return;
                }
            }

            if (v.ValueKind != JsonValueKind.Number || (integer && !v.TryGetInt32(out _)))
            {
                var param = $"{configName}.{name}";
                throw new TranslationException(param, integer ? $"'{name}' must be an integer." : $"'{name}' must be a number.");
            }

            writer.WritePropertyName(openAI);
            v.WriteTo(writer);
        }

        Number("temperature", "temperature", "temperature"u8, integer: false);
        Number("topP", "top_p", "top_p"u8, integer: false);
        Number("maxOutputTokens", "max_output_tokens", "max_completion_tokens"u8, integer: true);
        Number("candidateCount", "candidate_count", "n"u8, integer: true);
        Number("seed", "seed", "seed"u8, integer: true);
        Number("presencePenalty", "presence_penalty", "presence_penalty"u8, integer: false);
        Number("frequencyPenalty", "frequency_penalty", "frequency_penalty"u8, integer: false);

        if (TryGet(config, "topK", "top_k", out var topK, out var topKName) && topK.ValueKind != JsonValueKind.Null)
        {
            // A sampling hint, not part of the question: dropped and reported (Google's Gemini CLI sends it always).
            var param = $"{configName}.{topKName}";
            if (topK.ValueKind != JsonValueKind.Number || !topK.TryGetInt32(out _))
            {
                throw new TranslationException(param, $"'{topKName}' must be an integer.");
            }

            dropped.Drop(param, "OpenAI-protocol models have no topK.");
        }

        if (TryGet(config, "stopSequences", "stop_sequences", out var stops, out var stopsName) && stops.ValueKind != JsonValueKind.Null)
        {
            var param = $"{configName}.{stopsName}";
            if (stops.ValueKind != JsonValueKind.Array || stops.EnumerateArray().Any(stop => stop.ValueKind != JsonValueKind.String))
            {
                throw new TranslationException(param, $"'{stopsName}' must be an array of strings.");
            }

            if (stops.GetArrayLength() > 4)
            {
                throw new TranslationException(param, "OpenAI-protocol models accept at most 4 stop sequences.");
            }

            if (stops.GetArrayLength() > 0)
            {
                writer.WritePropertyName("stop"u8);
                stops.WriteTo(writer);
            }
        }

        var responseLogprobs = TryGet(config, "responseLogprobs", "response_logprobs", out var logprobs, out var logprobsName)
            && ClientFields.OptionalBoolean(logprobs, $"{configName}.{logprobsName}") == true;
        if (responseLogprobs)
        {
            writer.WriteBoolean("logprobs"u8, true);
            Number("logprobs", "logprobs", "top_logprobs"u8, integer: true);
        }

        WriteResponseFormat(writer, config, configName);
        WriteReasoning(writer, config, configName, profile);
        CheckOutputModalities(config, configName, dropped);
    }

    /// <summary>
    /// <c>responseModalities</c> and <c>speechConfig</c>. Text, Chat's default, needs nothing. Chat can answer in
    /// audio (<c>modalities</c>, <c>audio</c>), but the gateway does not carry an audio answer back to Gemini's
    /// <c>inlineData</c> yet, and Chat has no image output: both are refused rather than answered in text. A voice for an
    /// answer that has no audio changes nothing, and is dropped and reported.
    /// </summary>
    private static void CheckOutputModalities(JsonElement config, string configName, DroppedFields dropped)
    {
        if (TryGet(config, "responseModalities", "response_modalities", out var modalities, out var modalitiesName) && modalities.ValueKind != JsonValueKind.Null)
        {
            var param = $"{configName}.{modalitiesName}";
            if (modalities.ValueKind != JsonValueKind.Array)
            {
                throw new TranslationException(param, $"'{modalitiesName}' must be an array.");
            }

            var i = 0;
            foreach (var modality in modalities.EnumerateArray())
            {
                var itemParam = $"{param}[{i++}]";
                switch (ClientFields.OptionalString(modality, itemParam)?.ToUpperInvariant())
                {
                    case "TEXT" or "MODALITY_UNSPECIFIED" or null:
                        break;
                    case "AUDIO":
                        throw new TranslationException(itemParam, "AUDIO answers from an OpenAI-protocol model are not carried back to Gemini clients by this gateway yet: ask for TEXT.");
                    case var other:
                        throw new TranslationException(itemParam, $"An OpenAI-protocol model cannot answer in {other}: ask for TEXT.");
                }
            }
        }

        // Audio was refused above, so a voice here has no audio to speak.
        if (TryGet(config, "speechConfig", "speech_config", out var speech, out var speechName) && speech.ValueKind != JsonValueKind.Null)
        {
            dropped.Drop($"{configName}.{speechName}", "A voice has nothing to say in an answer without audio.");
        }
    }

    private static void WriteResponseFormat(Utf8JsonWriter writer, JsonElement config, string configName)
    {
        var mime = TryGet(config, "responseMimeType", "response_mime_type", out var m, out var mimeName) ? ClientFields.OptionalString(m, $"{configName}.{mimeName}") : null;
        if (mime is null or "text/plain")
        {
            return;
        }

        if (mime != "application/json")
        {
            throw new TranslationException($"{configName}.{mimeName}", $"responseMimeType '{mime}' cannot be expressed for an OpenAI-protocol model.");
        }

        writer.WritePropertyName("response_format"u8);
        writer.WriteStartObject();
        var hasJsonSchema = HasSchema(config, "responseJsonSchema", "response_json_schema", configName, out var jsonSchema);
        var hasSchema = HasSchema(config, "responseSchema", "response_schema", configName, out var schema);
        if (!hasJsonSchema && !hasSchema)
        {
            writer.WriteString("type"u8, "json_object");
        }
        else
        {
            writer.WriteString("type"u8, "json_schema");
            writer.WritePropertyName("json_schema"u8);
            writer.WriteStartObject();
            writer.WriteString("name"u8, "response");
            writer.WriteBoolean("strict"u8, false);
            writer.WritePropertyName("schema"u8);
            if (hasJsonSchema)
            {
                jsonSchema.WriteTo(writer);
            }
            else
            {
                WriteOpenApiAsJsonSchema(writer, schema);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>Whether a response schema is set; one that is not an object would be dropped silently, so it is refused.</summary>
    private static bool HasSchema(JsonElement config, string camel, string snake, string configName, out JsonElement schema)
    {
        if (!TryGet(config, camel, snake, out schema, out var name) || schema.ValueKind == JsonValueKind.Null)
        {
            return false;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException($"{configName}.{name}", $"'{name}' must be an object.");
        }

        return true;
    }

    /// <summary>Gemini's OpenAPI-style schema (<c>"type":"OBJECT"</c>, <c>nullable</c>) as JSON Schema.</summary>
    internal static void WriteOpenApiAsJsonSchema(Utf8JsonWriter writer, JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            schema.WriteTo(writer);
            return;
        }

        var nullable = schema.TryGetProperty("nullable", out var n) && n.ValueKind == JsonValueKind.True;
        writer.WriteStartObject();
        foreach (var property in schema.EnumerateObject())
        {
            switch (property.Name)
            {
                case "nullable" or "propertyOrdering" or "property_ordering":
                    break;
                case "type" when property.Value.ValueKind == JsonValueKind.String:
                    var type = property.Value.GetString()!.ToLowerInvariant();
                    if (nullable)
                    {
                        writer.WritePropertyName("type"u8);
                        writer.WriteStartArray();
                        writer.WriteStringValue(type);
                        writer.WriteStringValue("null");
                        writer.WriteEndArray();
                    }
                    else
                    {
                        writer.WriteString("type"u8, type);
                    }

                    break;
                case "properties" when property.Value.ValueKind == JsonValueKind.Object:
                    writer.WritePropertyName("properties"u8);
                    writer.WriteStartObject();
                    foreach (var child in property.Value.EnumerateObject())
                    {
                        writer.WritePropertyName(child.Name);
                        WriteOpenApiAsJsonSchema(writer, child.Value);
                    }

                    writer.WriteEndObject();
                    break;
                case "items" or "anyOf" or "any_of":
                    writer.WritePropertyName(property.Name == "items" ? "items" : "anyOf");
                    if (property.Value.ValueKind == JsonValueKind.Array)
                    {
                        writer.WriteStartArray();
                        foreach (var item in property.Value.EnumerateArray())
                        {
                            WriteOpenApiAsJsonSchema(writer, item);
                        }

                        writer.WriteEndArray();
                    }
                    else
                    {
                        WriteOpenApiAsJsonSchema(writer, property.Value);
                    }

                    break;
                default:
                    property.WriteTo(writer);
                    break;
            }
        }

        writer.WriteEndObject();
    }

    private static void WriteReasoning(Utf8JsonWriter writer, JsonElement config, string configName, UpstreamModelProfile profile)
    {
        if (!TryGet(config, "thinkingConfig", "thinking_config", out var thinking, out var thinkingName) || thinking.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        var param = $"{configName}.{thinkingName}";
        if (thinking.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(param, $"'{thinkingName}' must be an object.");
        }

        string? effort = null;
        var hasLevel = TryGet(thinking, "thinkingLevel", "thinking_level", out var level, out var levelName);
        if (hasLevel && ClientFields.OptionalString(level, $"{param}.{levelName}") is { Length: > 0 } l)
        {
            effort = l.ToLowerInvariant() switch
            {
                "minimal" or "low" or "medium" or "high" => l.ToLowerInvariant(),
                var other => throw new TranslationException($"{param}.{levelName}", $"thinkingLevel '{other}' is not one of minimal, low, medium, high."),
            };
        }
        else if (TryGet(thinking, "thinkingBudget", "thinking_budget", out var budget, out var budgetName)
            && ClientFields.OptionalInt32(budget, $"{param}.{budgetName}") is { } tokens)
        {
            // The thresholds of Google's own OpenAI compatibility layer: 1K, 8K, 24K.
            effort = tokens switch
            {
                < 0 => null,
                0 => "none",
                <= 1024 => "low",
                <= 8192 => "medium",
                _ => "high",
            };
        }

        if (effort is null)
        {
            return;
        }

        if (profile.Thinking == ThinkingStyle.None)
        {
            // Asking a model that cannot think not to think is already satisfied; asking it to think is refused,
            // as Gemini refuses a thinkingConfig on its own non-thinking models.
            if (effort == "none")
            {
                return;
            }

            throw new TranslationException(param, $"Model '{profile.UpstreamModel}' does not take a reasoning effort.");
        }

        writer.WriteString("reasoning_effort"u8, effort);
    }

    private static void WriteTools(Utf8JsonWriter writer, JsonElement request)
    {
        var choice = ReadFunctionCallingConfig(request);
        var declarations = new List<(JsonElement Declaration, string Name)>();
        var passthrough = new List<(JsonElement Tool, string Name)>();
        if (request.TryGetProperty("tools", out var tools) && tools.ValueKind != JsonValueKind.Null)
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                throw new TranslationException("tools", "'tools' must be an array.");
            }

            var t = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var param = $"tools[{t++}]";
                if (tool.ValueKind != JsonValueKind.Object)
                {
                    throw new TranslationException(param, "Each tool must be an object.");
                }

                if (TryGet(tool, "functionDeclarations", "function_declarations", out var functions, out var functionsName))
                {
                    if (functions.ValueKind != JsonValueKind.Array)
                    {
                        throw new TranslationException($"{param}.{functionsName}", $"'{functionsName}' must be an array.");
                    }

                    var f = 0;
                    foreach (var declaration in functions.EnumerateArray())
                    {
                        var declarationParam = $"{param}.{functionsName}[{f++}]";
                        if (declaration.ValueKind != JsonValueKind.Object || !declaration.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                        {
                            throw new TranslationException(declarationParam + ".name", "A function declaration needs a 'name'.");
                        }

                        declarations.Add((declaration, name.GetString()!));
                    }
                }
                else if (tool.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("function"u8) && tool.TryGetProperty("function", out var function))
                {
                    // The provider page's own tool spelling is OpenAI's already.
                    var name = function.ValueKind == JsonValueKind.Object && function.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                        ? n.GetString()!
                        : throw new TranslationException(param + ".function.name", "A function tool needs a 'name'.");
                    passthrough.Add((tool, name));
                }
                else
                {
                    var kind = string.Join(", ", tool.EnumerateObject().Select(p => p.Name));
                    throw new TranslationException(param, $"Built-in tool '{kind}' cannot be used with an OpenAI-protocol model.");
                }
            }
        }

        // NOTE: Gemini's allowedFunctionNames leaves the other functions declared but uncallable. Chat's nearest field,
        // tool_choice {type: "allowed_tools"}, is recent (OpenAI, 2025) and OpenAI-compatible upstreams (vLLM, Google's
        // OpenAI layer, most gateways) refuse or ignore it; a function that is not sent cannot be called on any of them.
        // So only the allowed functions go up, as the Responses API's allowed_tools goes to Chat (the model no longer
        // reads the excluded ones' descriptions, which it was not to act on anyway).
        if (choice.Allowed.Count > 0)
        {
            var declared = declarations.Select(d => d.Name).Concat(passthrough.Select(p => p.Name)).ToHashSet(StringComparer.Ordinal);
            for (var i = 0; i < choice.Allowed.Count; i++)
            {
                if (!declared.Contains(choice.Allowed[i]))
                {
                    throw new TranslationException($"{choice.NamesParam}[{i}]", $"'{choice.Allowed[i]}' is not a function declared in 'tools'.");
                }
            }

            var allowed = choice.Allowed.ToHashSet(StringComparer.Ordinal);
            declarations.RemoveAll(d => !allowed.Contains(d.Name));
            passthrough.RemoveAll(p => !allowed.Contains(p.Name));
        }

        if (declarations.Count > 0 || passthrough.Count > 0)
        {
            writer.WritePropertyName("tools"u8);
            writer.WriteStartArray();
            foreach (var (declaration, name) in declarations)
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "function");
                writer.WritePropertyName("function"u8);
                writer.WriteStartObject();
                writer.WriteString("name"u8, name);
                if (declaration.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
                {
                    writer.WriteString("description"u8, description.GetString());
                }

                if (TryGet(declaration, "parametersJsonSchema", "parameters_json_schema", out var jsonSchema) && jsonSchema.ValueKind == JsonValueKind.Object)
                {
                    writer.WritePropertyName("parameters"u8);
                    jsonSchema.WriteTo(writer);
                }
                else if (declaration.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
                {
                    writer.WritePropertyName("parameters"u8);
                    WriteOpenApiAsJsonSchema(writer, parameters);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            foreach (var (tool, _) in passthrough)
            {
                tool.WriteTo(writer);
            }

            writer.WriteEndArray();
        }

        if (choice.Param is not { } modeParam)
        {
            return;
        }

        writer.WritePropertyName("tool_choice"u8);
        switch (choice.Mode)
        {
            case "NONE":
                writer.WriteStringValue("none");
                break;
            case "ANY" when choice.Allowed.Count == 1:
                writer.WriteStartObject();
                writer.WriteString("type"u8, "function");
                writer.WritePropertyName("function"u8);
                writer.WriteStartObject();
                writer.WriteString("name"u8, choice.Allowed[0]);
                writer.WriteEndObject();
                writer.WriteEndObject();
                break;
            case "ANY":
                writer.WriteStringValue("required");
                break;
            case "AUTO" or "VALIDATED" or "MODE_UNSPECIFIED" or null:
                writer.WriteStringValue("auto");
                break;
            default:
                throw new TranslationException(modeParam + ".mode", $"Mode '{choice.Mode}' is not one of AUTO, ANY, NONE, VALIDATED.");
        }
    }

    /// <summary>
    /// <c>toolConfig.functionCallingConfig</c>: its mode (upper case; null when absent), the functions it allows (empty:
    /// all), and the params that name them as the client spelled them (<c>Param</c> null when there is no config).
    /// </summary>
    private static (string? Param, string? Mode, List<string> Allowed, string NamesParam) ReadFunctionCallingConfig(JsonElement request)
    {
        var allowed = new List<string>();
        if (!TryGet(request, "toolConfig", "tool_config", out var toolConfig, out var toolConfigName) || toolConfig.ValueKind == JsonValueKind.Null)
        {
            return (null, null, allowed, string.Empty);
        }

        // A config of another type would otherwise be read as no config: the client's restriction silently lifted.
        if (toolConfig.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(toolConfigName, $"'{toolConfigName}' must be an object.");
        }

        if (!TryGet(toolConfig, "functionCallingConfig", "function_calling_config", out var calling, out var callingName) || calling.ValueKind == JsonValueKind.Null)
        {
            return (null, null, allowed, string.Empty);
        }

        if (calling.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException($"{toolConfigName}.{callingName}", $"'{callingName}' must be an object.");
        }

        var param = $"{toolConfigName}.{callingName}";
        var mode = calling.TryGetProperty("mode", out var m) ? ClientFields.OptionalString(m, param + ".mode")?.ToUpperInvariant() : "AUTO";
        var namesParam = param + ".allowedFunctionNames";
        if (TryGet(calling, "allowedFunctionNames", "allowed_function_names", out var names, out var namesName) && names.ValueKind != JsonValueKind.Null)
        {
            namesParam = $"{param}.{namesName}";
            if (names.ValueKind != JsonValueKind.Array)
            {
                throw new TranslationException(namesParam, $"'{namesName}' must be an array of function names.");
            }

            var n = 0;
            foreach (var name in names.EnumerateArray())
            {
                allowed.Add(name.ValueKind == JsonValueKind.String
                    ? name.GetString()!
                    : throw new TranslationException($"{namesParam}[{n}]", "Function names must be strings."));
                n++;
            }
        }

        return (param, mode, allowed, namesParam);
    }

    private static string Compact(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            value.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
