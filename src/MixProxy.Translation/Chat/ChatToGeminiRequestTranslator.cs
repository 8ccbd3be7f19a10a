using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.Chat;

/// <summary>
/// Translates an OpenAI Chat Completions request body into a Gemini <c>generateContent</c> body.
/// Knobs that would change the answer and cannot be expressed upstream throw <see cref="TranslationException"/>;
/// harmless bookkeeping fields (<c>user</c>, <c>metadata</c>, <c>store</c>…) are ignored.
/// </summary>
public static class ChatToGeminiRequestTranslator
{
    // The seed provider's built-in search is spelled as a parameterless function called web_search; clients written
    // for Gemini's own OpenAI layer spell it googleSearch. A client function of such a name *with* parameters is the
    // client's own tool and stays a function.
    private static readonly string[] BuiltInSearchNames = ["web_search", "googleSearch", "google_search"];

    // OpenAI's retired function-calling fields: refused, since ignoring them would drop the client's tools.
    private static readonly string[] RetiredFunctionFields = ["functions", "function_call"];

    private static readonly (string OpenAI, string Gemini)[] Penalties = [("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty")];


    /// <summary>Writes the Gemini body for <paramref name="request"/> into <paramref name="output"/>.</summary>
    /// <returns>What the response translator must know about the request it sent.</returns>
    public static GeminiRequestFacts Translate(JsonElement request, UpstreamModelProfile profile, IBufferWriter<byte> output, ThoughtSignatureBag? knownSignatures = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(null, "The request body must be a JSON object.");
        }

        if (!request.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw new TranslationException("messages", "'messages' must be a non-empty array.");
        }

        try
        {
            foreach (var legacy in RetiredFunctionFields)
            {
                if (request.TryGetProperty(legacy, out var value) && value.ValueKind != JsonValueKind.Null)
                {
                    throw new TranslationException(legacy, $"'{legacy}' is OpenAI's retired form of function calling; send 'tools' and 'tool_choice' instead.");
                }
            }

            using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
            writer.WriteStartObject();
            WriteContents(writer, messages, profile, knownSignatures);
            WriteSystemInstruction(writer, messages);
            var (googleSearch, withFunctions) = WriteTools(writer, request, profile);
            WriteToolConfig(writer, request, googleSearch && withFunctions);
            WriteGenerationConfig(writer, request, profile);
            writer.WriteEndObject();
            writer.Flush();
            return new GeminiRequestFacts(googleSearch);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException)
        {
            // A field of the wrong JSON type (a number where text belongs, say) that no rule above named.
            throw new TranslationException(null, "A request field has the wrong JSON type: " + e.Message);
        }
    }

    // :: Messages ---------------------------------------------------------------------------------

    private static string RoleOf(JsonElement message, int index)
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

    private static void WriteSystemInstruction(Utf8JsonWriter writer, JsonElement messages)
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
    private static IEnumerable<JsonElement> TextsOf(JsonElement message, int index)
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
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || !type.ValueEquals("text"u8))
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

    private static void WriteContents(Utf8JsonWriter writer, JsonElement messages, UpstreamModelProfile profile, ThoughtSignatureBag? knownSignatures)
    {
        writer.WritePropertyName("contents"u8);
        writer.WriteStartArray();

        // Gemini wants alternating turns: consecutive user and tool messages merge into one user content,
        // consecutive assistant messages into one model content.
        string? openRole = null;
        var list = messages.EnumerateArray().ToList();

        // The calls of the latest model turn, in order, which its tool results answer; and every call made so far
        // by id, the latest winning (some clients number ids per turn, so call_0 recurs).
        List<PendingCall>? turnCalls = null;
        Dictionary<string, string>? earlierCalls = null;
        for (var index = 0; index < list.Count; index++)
        {
            var message = list[index];
            var role = RoleOf(message, index);
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
                    CollectCalls(calls, turnCalls ??= [], earlierCalls ??= new(StringComparer.Ordinal));
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
                    WriteAssistantParts(writer, message, index, profile, knownSignatures);
                    break;
                default:
                    index = WriteToolResults(writer, list, index, turnCalls ?? [], earlierCalls ?? [], profile);
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

    /// <summary>A function call of the model turn being answered.</summary>
    private sealed class PendingCall(string? id, string name)
    {
        public string? Id { get; } = id;

        public string Name { get; } = name;

        public bool Answered { get; set; }
    }

    private static void CollectCalls(JsonElement calls, List<PendingCall> turnCalls, Dictionary<string, string> earlierCalls)
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
    private static int WriteToolResults(Utf8JsonWriter writer, List<JsonElement> list, int start, List<PendingCall> turnCalls, Dictionary<string, string> earlierCalls, UpstreamModelProfile profile)
    {
        var end = start;
        while (end + 1 < list.Count && RoleOf(list[end + 1], end + 1) is "tool" or "system")
        {
            end++;
        }

        var results = new List<(int Index, string? Id, string Name, int Position)>();
        for (var i = start; i <= end; i++)
        {
            if (RoleOf(list[i], i) == "tool")
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
    private static (string? Id, string Name, int Position) ResolveToolCall(JsonElement message, int index, List<PendingCall> turnCalls, Dictionary<string, string> earlierCalls)
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

    private static bool HasParts(JsonElement message, string role)
    {
        if (role == "tool")
        {
            return true;
        }

        if (role == "model" && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0)
        {
            return true;
        }

        if (!message.TryGetProperty("content", out var content))
        {
            return false;
        }

        return content.ValueKind switch
        {
            JsonValueKind.String => !content.ValueEquals(""u8),
            // A text of the wrong JSON type counts as a part, so that writing it refuses it by name.
            JsonValueKind.Array => content.EnumerateArray().Any(p => p.ValueKind != JsonValueKind.Object || !p.TryGetProperty("type", out var t) || !t.ValueEquals("text"u8) || (p.TryGetProperty("text", out var x) && (x.ValueKind is not (JsonValueKind.String or JsonValueKind.Null) || IsNonEmptyString(x)))),
            _ => false,
        };
    }

    /// <summary>
    /// A <c>{"text": …}</c> part copied from the request's own string element: messages make up most of a request,
    /// and going through a .NET string would allocate each of them once more.
    /// </summary>
    private static void WriteTextPart(Utf8JsonWriter writer, JsonElement text)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("text"u8);
        text.WriteTo(writer);
        writer.WriteEndObject();
    }

    private static bool IsNonEmptyString(JsonElement element) => element.ValueKind == JsonValueKind.String && !element.ValueEquals(""u8);

    /// <summary>As above, for a field that must be text when present: anything but a string or null is refused.</summary>
    private static bool IsNonEmptyString(JsonElement element, string param) =>
        element.ValueKind is JsonValueKind.String or JsonValueKind.Null
            ? IsNonEmptyString(element)
            : throw new TranslationException(param, "'text' must be a string.");

    private static void WriteUserParts(Utf8JsonWriter writer, JsonElement message, int index, UpstreamModelProfile profile)
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
                    WriteMediaUrlPart(writer, part, param, profile);
                    break;
                case "input_audio":
                    WriteAudioPart(writer, part, param);
                    break;
                case "file":
                    WriteFilePart(writer, part, param);
                    break;
                case var other:
                    throw new TranslationException(param, $"Content part type '{other}' cannot be sent to a Gemini model.");
            }
        }
    }

    private static void WriteMediaUrlPart(Utf8JsonWriter writer, JsonElement part, string param, UpstreamModelProfile profile)
    {
        if (!part.TryGetProperty("image_url", out var imageUrl))
        {
            throw new TranslationException(param, "'image_url' part needs an 'image_url' object.");
        }

        var url = imageUrl.ValueKind switch
        {
            JsonValueKind.String => imageUrl.GetString(),
            JsonValueKind.Object when imageUrl.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String => u.GetString(),
            _ => null,
        };
        if (string.IsNullOrEmpty(url))
        {
            throw new TranslationException(param + ".image_url.url", "'image_url.url' is required.");
        }

        var resolution = MediaResolutionFor(imageUrl, param + ".image_url.detail");
        WriteUrlAsPart(writer, url, param + ".image_url.url", defaultMime: null, profile.SupportsPartMediaResolution ? resolution : null);
    }

    /// <summary>
    /// <c>detail</c> as a Gemini media resolution: <c>low</c> and <c>high</c> have direct equivalents, <c>auto</c>
    /// (or nothing) leaves the model's default; any other value is refused, as OpenAI refuses it.
    /// </summary>
    private static string? MediaResolutionFor(JsonElement imageUrl, string param)
    {
        if (imageUrl.ValueKind != JsonValueKind.Object || !imageUrl.TryGetProperty("detail", out var detail) || detail.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return (detail.ValueKind == JsonValueKind.String ? detail.GetString() : null) switch
        {
            "low" => "MEDIA_RESOLUTION_LOW",
            "high" => "MEDIA_RESOLUTION_HIGH",
            "auto" => null,
            _ => throw new TranslationException(param, "'detail' must be 'low', 'high' or 'auto'."),
        };
    }

    private static void WriteUrlAsPart(Utf8JsonWriter writer, string url, string param, string? defaultMime, string? mediaResolution = null)
    {
        if (url.StartsWith("data:", StringComparison.Ordinal))
        {
            var (mime, data) = ParseDataUri(url, param);
            writer.WriteStartObject();
            writer.WritePropertyName("inlineData"u8);
            writer.WriteStartObject();
            writer.WriteString("mimeType"u8, mime);
            writer.WriteString("data"u8, data);
            writer.WriteEndObject();
            WriteMediaResolution(writer, mediaResolution);
            writer.WriteEndObject();
            return;
        }

        if (IsYouTubeVideo(url))
        {
            // Gemini fetches YouTube videos itself and takes them without a media type.
            writer.WriteStartObject();
            writer.WritePropertyName("fileData"u8);
            writer.WriteStartObject();
            writer.WriteString("fileUri"u8, url);
            writer.WriteEndObject();
            WriteMediaResolution(writer, mediaResolution);
            writer.WriteEndObject();
            return;
        }

        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("gs://", StringComparison.Ordinal))
        {
            var mime = MimeFromExtension(url) ?? defaultMime
                ?? throw new TranslationException(param, "Cannot tell the media type of this URL from its extension; send it as a data: URI instead.");
            writer.WriteStartObject();
            writer.WritePropertyName("fileData"u8);
            writer.WriteStartObject();
            writer.WriteString("mimeType"u8, mime);
            writer.WriteString("fileUri"u8, url);
            writer.WriteEndObject();
            WriteMediaResolution(writer, mediaResolution);
            writer.WriteEndObject();
            return;
        }

        throw new TranslationException(param, "Only data:, http(s):// and gs:// URLs can be sent to a Gemini model.");
    }

    private static bool IsYouTubeVideo(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
        && uri.Host is "www.youtube.com" or "youtube.com" or "m.youtube.com" or "youtu.be";

    private static void WriteMediaResolution(Utf8JsonWriter writer, string? level)
    {
        if (level is not null)
        {
            writer.WritePropertyName("mediaResolution"u8);
            writer.WriteStartObject();
            writer.WriteString("level"u8, level);
            writer.WriteEndObject();
        }
    }

    private static (string Mime, string Data) ParseDataUri(string uri, string param)
    {
        // data:<mime>;base64,<payload>
        var comma = uri.IndexOf(',', StringComparison.Ordinal);
        var header = comma > 5 ? uri.AsSpan(5, comma - 5) : default;
        if (comma < 0 || !header.EndsWith(";base64", StringComparison.Ordinal) || header.Length <= ";base64".Length)
        {
            throw new TranslationException(param, "A data: URI must look like data:<mime-type>;base64,<data>.");
        }

        return (header[..^";base64".Length].ToString(), uri[(comma + 1)..]);
    }

    private static string? MimeFromExtension(string url)
    {
        var path = url.Split('?', '#')[0];
        var dot = path.LastIndexOf('.');
        if (dot < 0 || dot < path.LastIndexOf('/'))
        {
            return null;
        }

        return path[(dot + 1)..].ToLowerInvariant() switch
        {
            "png" => "image/png",
            "jpg" or "jpeg" => "image/jpeg",
            "webp" => "image/webp",
            "gif" => "image/gif",
            "heic" => "image/heic",
            "pdf" => "application/pdf",
            "wav" => "audio/wav",
            "mp3" => "audio/mp3",
            "flac" => "audio/flac",
            "ogg" => "audio/ogg",
            "mp4" => "video/mp4",
            "txt" => "text/plain",
            _ => null,
        };
    }

    private static void WriteAudioPart(Utf8JsonWriter writer, JsonElement part, string param)
    {
        if (!part.TryGetProperty("input_audio", out var audio) || audio.ValueKind != JsonValueKind.Object
            || !audio.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.String
            || !audio.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String)
        {
            throw new TranslationException(param + ".input_audio", "'input_audio' needs 'data' and 'format'.");
        }

        writer.WriteStartObject();
        writer.WritePropertyName("inlineData"u8);
        writer.WriteStartObject();
        writer.WriteString("mimeType"u8, "audio/" + format.GetString()!.ToLowerInvariant());
        writer.WriteString("data"u8, data.GetString());
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteFilePart(Utf8JsonWriter writer, JsonElement part, string param)
    {
        if (!part.TryGetProperty("file", out var file) || file.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(param + ".file", "'file' part needs a 'file' object.");
        }

        if (file.TryGetProperty("file_data", out var fileData) && fileData.GetString() is { Length: > 0 } dataUri)
        {
            WriteUrlAsPart(writer, dataUri.StartsWith("data:", StringComparison.Ordinal) ? dataUri : "data:application/pdf;base64," + dataUri, param + ".file.file_data", null);
            return;
        }

        if (file.TryGetProperty("file_id", out var fileId) && fileId.GetString() is { Length: > 0 } id)
        {
            var format = file.TryGetProperty("format", out var f) ? f.GetString() : null;
            WriteUrlAsPart(writer, id, param + ".file.file_id", format);
            return;
        }

        throw new TranslationException(param + ".file", "'file' needs 'file_data' or 'file_id'.");
    }

    // Google's documented stand-in for a signature that was lost (a client that rebuilt the history from
    // stream deltas, a conversation begun on another model): base64 of "skip_thought_signature_validator".
    internal const string PlaceholderThoughtSignature = "c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I=";

    private static void WriteAssistantParts(Utf8JsonWriter writer, JsonElement message, int index, UpstreamModelProfile profile, ThoughtSignatureBag? knownSignatures)
    {
        var requiresSignature = profile.RequiresThoughtSignatures;
        if (message.TryGetProperty("content", out var content))
        {
            if (IsNonEmptyString(content))
            {
                WriteTextPart(writer, content);
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                var p = 0;
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && IsNonEmptyString(t, $"messages[{index}].content[{p}].text"))
                    {
                        WriteTextPart(writer, t);
                    }

                    p++;
                }
            }
        }

        if (!message.TryGetProperty("tool_calls", out var calls) || calls.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        // Gemini 3 rejects a step whose first function call carries no signature.
        var needsPlaceholder = requiresSignature && !calls.EnumerateArray().Any(call => SignatureOf(call, knownSignatures) is not null);
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
            if (profile.SupportsFunctionCallIds && call.TryGetProperty("id", out var callId) && callId.GetString() is { Length: > 0 } id)
            {
                writer.WriteString("id"u8, id);
            }

            writer.WriteString("name"u8, name.GetString());
            writer.WritePropertyName("args"u8);
            WriteArguments(writer, fn, param + ".function.arguments");
            writer.WriteEndObject();

            // Gemini 3 validates the signature it issued for this call; clients that keep Google's
            // extra_content carry it back here.
            if (SignatureOf(call, knownSignatures) is { } sig)
            {
                writer.WriteString("thoughtSignature"u8, sig);
            }
            else if (needsPlaceholder && c == 1)
            {
                writer.WriteString("thoughtSignature"u8, PlaceholderThoughtSignature);
            }

            writer.WriteEndObject();
        }
    }

    /// <summary>The signature the client carried back in Google's place, else the one remembered for this call id.</summary>
    private static string? SignatureOf(JsonElement call, ThoughtSignatureBag? knownSignatures)
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

    private static void WriteArguments(Utf8JsonWriter writer, JsonElement function, string param)
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

    private static void WriteToolResultPart(Utf8JsonWriter writer, JsonElement message, int index, string? id, string name, UpstreamModelProfile profile)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("functionResponse"u8);
        writer.WriteStartObject();
        if (profile.SupportsFunctionCallIds && id is not null)
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

    private static void WriteToolOutput(Utf8JsonWriter writer, JsonElement message, int index)
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
                if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.GetString() != "text"
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

    // :: Tools ------------------------------------------------------------------------------------

    /// <summary>Writes <c>tools</c> and says whether Google Search is among them, and whether functions are too.</summary>
    private static (bool GoogleSearch, bool Functions) WriteTools(Utf8JsonWriter writer, JsonElement request, UpstreamModelProfile profile)
    {
        var search = request.TryGetProperty("web_search_options", out var wso) && wso.ValueKind == JsonValueKind.Object;
        var declarations = new List<JsonElement>();

        if (request.TryGetProperty("tools", out var tools) && tools.ValueKind != JsonValueKind.Null)
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                throw new TranslationException("tools", "'tools' must be an array.");
            }

            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var param = $"tools[{i++}]";
                var type = tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type", out var t) ? t.GetString() : null;
                switch (type)
                {
                    case "web_search" or "web_search_preview":
                        search = true;
                        break;
                    case "function":
                        if (!tool.TryGetProperty("function", out var fn) || fn.ValueKind != JsonValueKind.Object
                            || !fn.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                        {
                            throw new TranslationException(param + ".function.name", "A function tool needs 'function.name'.");
                        }

                        if (BuiltInSearchNames.Contains(name.GetString()) && !fn.TryGetProperty("parameters", out _))
                        {
                            search = true;
                        }
                        else
                        {
                            ValidateFunctionName(name.GetString()!, param + ".function.name");
                            declarations.Add(fn);
                        }

                        break;
                    default:
                        throw new TranslationException(param + ".type", $"Tool type '{type}' cannot be sent to a Gemini model.");
                }
            }
        }

        if (declarations.Count == 0 && !search)
        {
            return (false, false);
        }

        if (search && declarations.Count > 0 && !profile.SupportsSearchWithFunctions)
        {
            throw new TranslationException("tools", $"Model '{profile.UpstreamModel}' cannot use Google Search and function tools in one request.");
        }

        // One Tool object holds every function declaration; each built-in tool needs a Tool object of its own.
        writer.WritePropertyName("tools"u8);
        writer.WriteStartArray();
        if (declarations.Count > 0)
        {
            writer.WriteStartObject();
            writer.WritePropertyName("functionDeclarations"u8);
            writer.WriteStartArray();
            foreach (var fn in declarations)
            {
                writer.WriteStartObject();
                writer.WriteString("name"u8, fn.GetProperty("name").GetString());
                if (fn.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
                {
                    writer.WriteString("description"u8, description.GetString());
                }

                if (fn.TryGetProperty("parameters", out var parameters) && HasProperties(parameters))
                {
                    if (profile.SupportsJsonSchema)
                    {
                        writer.WritePropertyName("parametersJsonSchema"u8);
                        parameters.WriteTo(writer);
                    }
                    else
                    {
                        writer.WritePropertyName("parameters"u8);
                        OpenApiSchemaConverter.Write(writer, parameters, $"tools.function[{fn.GetProperty("name").GetString()}].parameters");
                    }
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        if (search)
        {
            writer.WriteStartObject();
            writer.WritePropertyName("googleSearch"u8);
            writer.WriteStartObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        return (search, declarations.Count > 0);
    }

    private static bool HasProperties(JsonElement schema) =>
        // Gemini rejects an OBJECT schema with no properties; a parameterless function omits the schema.
        schema.ValueKind == JsonValueKind.Object
        && (!schema.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "object"
            || (schema.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object && props.EnumerateObject().Any()));

    private static void ValidateFunctionName(string name, string param)
    {
        var valid = name.Length is > 0 and <= 64 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-');
        if (!valid)
        {
            throw new TranslationException(param, $"Function name '{name}' is not accepted by Gemini: it must start with a letter or underscore and use at most 64 of A-Z a-z 0-9 _ . : -.");
        }
    }

    private static void WriteToolConfig(Utf8JsonWriter writer, JsonElement request, bool searchWithFunctions)
    {
        string? mode = null;
        string? allowed = null;
        if (request.TryGetProperty("tool_choice", out var choice) && choice.ValueKind != JsonValueKind.Null)
        {
            if (choice.ValueKind == JsonValueKind.String)
            {
                mode = choice.GetString() switch
                {
                    "auto" => "AUTO",
                    "none" => "NONE",
                    "required" => "ANY",
                    var other => throw new TranslationException("tool_choice", $"tool_choice '{other}' is not one of auto, none, required."),
                };
            }
            else if (choice.ValueKind == JsonValueKind.Object
                && choice.TryGetProperty("function", out var fn) && fn.ValueKind == JsonValueKind.Object
                && fn.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            {
                mode = "ANY";
                allowed = name.GetString();
            }
            else
            {
                throw new TranslationException("tool_choice", "tool_choice must be auto, none, required or {\"type\":\"function\",\"function\":{\"name\":...}}.");
            }
        }

        if (mode is null && !searchWithFunctions)
        {
            return;
        }

        writer.WritePropertyName("toolConfig"u8);
        writer.WriteStartObject();
        if (mode is not null)
        {
            writer.WritePropertyName("functionCallingConfig"u8);
            writer.WriteStartObject();
            writer.WriteString("mode"u8, mode);
            if (allowed is not null)
            {
                writer.WritePropertyName("allowedFunctionNames"u8);
                writer.WriteStartArray();
                writer.WriteStringValue(allowed);
                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        // Gemini 3 serves a built-in tool next to function declarations only when asked to report its own
        // tool invocations in the response (the translator reads past those parts).
        if (searchWithFunctions)
        {
            writer.WriteBoolean("includeServerSideToolInvocations"u8, true);
        }

        writer.WriteEndObject();
    }

    // :: Generation config ------------------------------------------------------------------------

    private static void WriteGenerationConfig(Utf8JsonWriter writer, JsonElement request, UpstreamModelProfile profile)
    {
        var config = new LazyObject(writer, "generationConfig");

        CopyNumber(request, "temperature", config, "temperature"u8, 0, 2);
        CopyNumber(request, "top_p", config, "topP"u8, 0, 1);
        CopyInteger(request, "top_k", config, "topK"u8, min: 1);

        // max_completion_tokens wins; 0 means "not set" for clients that always send the field.
        var maxTokens = ReadInteger(request, "max_completion_tokens", min: 0) ?? ReadInteger(request, "max_tokens", min: 0);
        if (maxTokens is > 0)
        {
            config.Start().WriteNumber("maxOutputTokens"u8, maxTokens.Value);
        }

        WriteStop(request, config);

        if (ReadInteger(request, "n", min: 1) is { } n and > 1)
        {
            config.Start().WriteNumber("candidateCount"u8, n);
        }

        if (ReadInteger(request, "seed", min: int.MinValue) is { } seed and not 0)
        {
            config.Start().WriteNumber("seed"u8, seed);
        }

        foreach (var (field, geminiField) in Penalties)
        {
            if (ReadNumber(request, field, -2, 2) is { } penalty and not 0)
            {
                if (!profile.SupportsPenalties)
                {
                    throw new TranslationException(field, $"Model '{profile.UpstreamModel}' does not accept {field}.");
                }

                config.Start().WriteNumber(geminiField, penalty);
            }
        }

        var top = ReadInteger(request, "top_logprobs", min: 0);
        if (top > UpstreamModelProfile.OpenAIMaxTopLogprobs)
        {
            throw new TranslationException("top_logprobs", $"'top_logprobs' must be between 0 and {UpstreamModelProfile.OpenAIMaxTopLogprobs}.");
        }

        if (request.TryGetProperty("logprobs", out var logprobs) && logprobs.ValueKind == JsonValueKind.True)
        {
            config.Start().WriteBoolean("responseLogprobs"u8, true);
            if (top is > 0)
            {
                // OpenAI allows 20; a model that returns fewer gets its own maximum rather than a 400.
                config.Start().WriteNumber("logprobs"u8, Math.Min(top.Value, profile.MaxTopLogprobs));
            }
        }
        else if (top is > 0)
        {
            throw new TranslationException("top_logprobs", "'logprobs' must be true when 'top_logprobs' is set.");
        }

        WriteResponseFormat(request, config, profile);
        WriteThinking(request, profile, config);
        config.End();
    }

    private static void WriteStop(JsonElement request, LazyObject config)
    {
        if (!request.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (stop.ValueKind == JsonValueKind.String)
        {
            config.Start().WritePropertyName("stopSequences"u8);
            config.Writer.WriteStartArray();
            config.Writer.WriteStringValue(stop.GetString());
            config.Writer.WriteEndArray();
            return;
        }

        if (stop.ValueKind != JsonValueKind.Array || stop.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.String))
        {
            throw new TranslationException("stop", "'stop' must be a string or an array of strings.");
        }

        if (stop.GetArrayLength() > 5)
        {
            throw new TranslationException("stop", "Gemini accepts at most 5 stop sequences.");
        }

        if (stop.GetArrayLength() == 0)
        {
            return;
        }

        config.Start().WritePropertyName("stopSequences"u8);
        stop.WriteTo(config.Writer);
    }

    private static void WriteResponseFormat(JsonElement request, LazyObject config, UpstreamModelProfile profile)
    {
        if (!request.TryGetProperty("response_format", out var format) || format.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        var type = format.ValueKind == JsonValueKind.Object && format.TryGetProperty("type", out var t) ? t.GetString() : null;
        switch (type)
        {
            case "text":
                return;
            case "json_object":
                config.Start().WriteString("responseMimeType"u8, "application/json");
                return;
            case "json_schema":
                config.Start().WriteString("responseMimeType"u8, "application/json");
                if (format.TryGetProperty("json_schema", out var js) && js.ValueKind == JsonValueKind.Object
                    && js.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
                {
                    if (profile.SupportsJsonSchema)
                    {
                        config.Writer.WritePropertyName("responseJsonSchema"u8);
                        schema.WriteTo(config.Writer);
                    }
                    else
                    {
                        config.Writer.WritePropertyName("responseSchema"u8);
                        OpenApiSchemaConverter.Write(config.Writer, schema, "response_format.json_schema.schema");
                    }
                }

                return;
            default:
                throw new TranslationException("response_format.type", $"response_format type '{type}' is not one of text, json_object, json_schema.");
        }
    }

    private static void WriteThinking(JsonElement request, UpstreamModelProfile profile, LazyObject config)
    {
        string? level = null;
        int? budget = null;
        bool? includeThoughts = null;

        if (request.TryGetProperty("reasoning_effort", out var effortElement) && effortElement.ValueKind != JsonValueKind.Null)
        {
            var effort = effortElement.ValueKind == JsonValueKind.String ? effortElement.GetString()! : string.Empty;
            if (effort is not ("none" or "minimal" or "low" or "medium" or "high" or "xhigh"))
            {
                throw new TranslationException("reasoning_effort", $"reasoning_effort '{effort}' is not one of none, minimal, low, medium, high, xhigh.");
            }

            switch (profile.Thinking)
            {
                case ThinkingStyle.Level:
                    level = ChooseLevel(effort, profile.ThinkingLevels);
                    break;
                case ThinkingStyle.Budget:
                    budget = Math.Clamp(effort switch { "none" => 0, "minimal" => 512, "low" => 1024, "medium" => 8192, _ => 24576 }, profile.MinThinkingBudget, profile.MaxThinkingBudget);
                    break;
                default:
                    if (effort != "none")
                    {
                        throw new TranslationException("reasoning_effort", $"Model '{profile.UpstreamModel}' does not support reasoning_effort.");
                    }

                    break;
            }
        }

        // Google's own OpenAI layer takes Gemini's thinking knobs as extra_body.google.thinking_config (the OpenAI
        // SDKs' extra_body lands either nested or at the top level); they win over reasoning_effort.
        var google = request.TryGetProperty("extra_body", out var extra) && extra.ValueKind == JsonValueKind.Object && extra.TryGetProperty("google", out var nested)
            ? nested
            : request.TryGetProperty("google", out var top) ? top : default;
        if (google.ValueKind == JsonValueKind.Object && google.TryGetProperty("thinking_config", out var thinking) && thinking.ValueKind == JsonValueKind.Object)
        {
            const string Param = "extra_body.google.thinking_config";
            if (thinking.TryGetProperty("include_thoughts", out var include) && include.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                includeThoughts = include.GetBoolean();
            }

            var hasLevel = thinking.TryGetProperty("thinking_level", out var l) && l.ValueKind == JsonValueKind.String;
            var hasBudget = thinking.TryGetProperty("thinking_budget", out var b) && b.ValueKind == JsonValueKind.Number;
            if (hasLevel && hasBudget)
            {
                throw new TranslationException(Param, "Set thinking_level or thinking_budget, not both.");
            }

            if (hasLevel)
            {
                if (profile.Thinking != ThinkingStyle.Level || !profile.ThinkingLevels.Contains(l.GetString()!.ToLowerInvariant(), StringComparer.Ordinal))
                {
                    throw new TranslationException(Param + ".thinking_level", $"Model '{profile.UpstreamModel}' does not accept thinking level '{l.GetString()}'.");
                }

                (level, budget) = (l.GetString()!.ToLowerInvariant(), null);
            }
            else if (hasBudget)
            {
                if (profile.Thinking != ThinkingStyle.Budget || b.GetInt32() is var n && n != -1 && (n < profile.MinThinkingBudget || n > profile.MaxThinkingBudget))
                {
                    throw new TranslationException(Param + ".thinking_budget", $"Model '{profile.UpstreamModel}' does not accept a thinking budget of {b.GetRawText()} (range {profile.MinThinkingBudget}..{profile.MaxThinkingBudget}, or -1).");
                }

                (level, budget) = (null, b.GetInt32());
            }
        }

        if (level is null && budget is null && includeThoughts is null)
        {
            return;
        }

        config.Start().WritePropertyName("thinkingConfig"u8);
        config.Writer.WriteStartObject();
        if (level is not null)
        {
            config.Writer.WriteString("thinkingLevel"u8, level);
        }

        if (budget is not null)
        {
            config.Writer.WriteNumber("thinkingBudget"u8, budget.Value);
        }

        if (includeThoughts is not null)
        {
            config.Writer.WriteBoolean("includeThoughts"u8, includeThoughts.Value);
        }

        config.Writer.WriteEndObject();
    }

    /// <summary>
    /// Maps an OpenAI effort onto the levels a Gemini 3 model accepts (lowest first). Thinking cannot be
    /// turned off on Gemini 3, so none/minimal take the lowest level; medium rounds up where it is missing.
    /// </summary>
    internal static string ChooseLevel(string effort, IReadOnlyList<string> levels)
    {
        string? Has(string level) => levels.Contains(level, StringComparer.Ordinal) ? level : null;
        return effort switch
        {
            "none" => levels[0],
            "minimal" => Has("minimal") ?? levels[0],
            "low" => Has("low") ?? levels[0],
            "medium" => Has("medium") ?? Has("high") ?? levels[^1],
            _ => Has("high") ?? levels[^1],
        };
    }

    private static void CopyNumber(JsonElement request, string field, LazyObject config, ReadOnlySpan<byte> geminiField, double min, double max)
    {
        if (ReadNumber(request, field, min, max) is { } value)
        {
            config.Start().WriteNumber(geminiField, value);
        }
    }

    private static void CopyInteger(JsonElement request, string field, LazyObject config, ReadOnlySpan<byte> geminiField, int min)
    {
        if (ReadInteger(request, field, min) is { } value)
        {
            config.Start().WriteNumber(geminiField, value);
        }
    }

    private static double? ReadNumber(JsonElement request, string field, double min, double max)
    {
        if (!request.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || value.GetDouble() is var d && (d < min || d > max))
        {
            throw new TranslationException(field, string.Create(CultureInfo.InvariantCulture, $"'{field}' must be a number from {min} to {max}."));
        }

        return d;
    }

    private static int? ReadInteger(JsonElement request, string field, int min)
    {
        if (!request.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var i) || i < min)
        {
            throw new TranslationException(field, string.Create(CultureInfo.InvariantCulture, $"'{field}' must be an integer of at least {min}."));
        }

        return i;
    }

    /// <summary>An object property written only once something goes into it.</summary>
    private sealed class LazyObject(Utf8JsonWriter writer, string name)
    {
        private bool _started;

        public Utf8JsonWriter Writer => writer;

        public Utf8JsonWriter Start()
        {
            if (!_started)
            {
                writer.WritePropertyName(name);
                writer.WriteStartObject();
                _started = true;
            }

            return writer;
        }

        public void End()
        {
            if (_started)
            {
                writer.WriteEndObject();
            }
        }
    }
}
