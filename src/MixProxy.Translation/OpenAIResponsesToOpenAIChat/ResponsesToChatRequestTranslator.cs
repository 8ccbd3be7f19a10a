using System.Buffers;
using System.Collections.Frozen;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using static MixProxy.Translation.OpenAIResponsesToOpenAIChat.ResponsesToChatFields;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>
/// Translates an OpenAI Responses request body (<c>POST /v1/responses</c>) into an OpenAI Chat Completions body, one
/// concern per class: <see cref="ResponsesToChatInput"/> (instructions and input items become messages) and
/// <see cref="ResponsesToChatTools"/> (tools and tool choice); the knobs are here. The body is meant both for a real
/// OpenAI Chat upstream and for the Chat → Gemini translator, so it only uses fields real Chat accepts, spelled the
/// way the Gemini side reads them. Anything that would change the answer and has no Chat spelling is refused with
/// <see cref="TranslationException"/> naming the field as the client wrote it.
/// </summary>
internal static class ResponsesToChatRequestTranslator
{
    // Every field of a Responses create request this route knows. Anything else is refused as OpenAI refuses it: a
    // field the gateway silently ignored could be one that changes the answer.
    private static readonly FrozenSet<string> KnownFields = FrozenSet.ToFrozenSet(
    [
        "model", "input", "instructions", "stream", "stream_options", "tools", "tool_choice", "parallel_tool_calls",
        "reasoning", "text", "max_output_tokens", "temperature", "top_p", "top_logprobs", "user", "safety_identifier",
        "prompt_cache_key", "prompt_cache_retention", "prompt_cache_options", "metadata", "service_tier", "moderation",
        "store", "previous_response_id", "include", "truncation", "background", "conversation", "prompt",
        "max_tool_calls", "context_management",
    ], StringComparer.Ordinal);

    private static readonly string[] Efforts = ["none", "minimal", "low", "medium", "high", "xhigh"];
    private static readonly string[] Summaries = ["auto", "concise", "detailed"];
    private static readonly string[] Verbosities = ["low", "medium", "high"];
    private const string IncludeLogprobs = "message.output_text.logprobs";
    private const string IncludeSearchSources = "web_search_call.action.sources";

    // include values whose data this route can give: the sealed signatures, the search sources (and results, their
    // older name), token logprobs. The others belong to tools this route refuses or to stored input listings.
    private static readonly string[] Includable = ["reasoning.encrypted_content", IncludeSearchSources, "web_search_call.results", IncludeLogprobs];

    /// <summary>
    /// Writes the Chat Completions body for <paramref name="request"/> (the Responses body's root object).
    /// <paramref name="prior"/> is null or a JSON array of Responses items (same notation as <c>input</c> list items)
    /// of the conversation the request continues via <c>previous_response_id</c>; they go before the request's own
    /// input. <paramref name="model"/> is the model name to write. Throws <see cref="TranslationException"/> on bad or
    /// unsupported input. <paramref name="googleThoughts"/>: the Chat request goes on to Gemini, which takes a request
    /// for thought summaries (<c>reasoning.summary</c>) as Google's <c>extra_body.google.thinking_config.include_thoughts</c>;
    /// a real Chat Completions upstream would refuse that field and has no summaries to give. What the Chat request
    /// goes without and does not change the question is added to <paramref name="dropped"/>, named as the client wrote it.
    /// </summary>
    public static ResponsesRequestFacts Translate(JsonElement request, JsonElement? prior, string model, IBufferWriter<byte> chatBody, bool googleThoughts = false, DroppedFields? dropped = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        dropped ??= new DroppedFields(strict: false);
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(null, "The request body must be a JSON object.");
        }

        foreach (var field in request.EnumerateObject())
        {
            if (!KnownFields.Contains(field.Name))
            {
                throw new TranslationException(field.Name, $"Unknown parameter: '{field.Name}'.");
            }
        }

        var (logprobs, searchSources) = CheckGatewayFields(request);
        ClientFields.OptionalString(Get(request, "model"), "model");

        using var writer = new Utf8JsonWriter(chatBody, WireJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("model"u8, model);
        ResponsesToChatInput.WriteMessages(writer, request, prior, dropped);
        var webSearch = ResponsesToChatTools.WriteTools(writer, request, dropped);

        if (ClientFields.OptionalBoolean(Get(request, "stream"), "stream") == true)
        {
            writer.WriteBoolean("stream"u8, true);

            // Always asked for: the gateway settles every request's usage, whether or not the client wants it.
            writer.WritePropertyName("stream_options"u8);
            writer.WriteStartObject();
            writer.WriteBoolean("include_usage"u8, true);
            writer.WriteEndObject();
        }

        var maxTokens = Get(request, "max_output_tokens");
        if (ClientFields.OptionalInt32(maxTokens, "max_output_tokens") is not null)
        {
            writer.WritePropertyName("max_completion_tokens"u8);
            maxTokens.WriteTo(writer);
        }

        CopyNumber(writer, request, "temperature");
        CopyNumber(writer, request, "top_p");
        var summary = WriteReasoning(writer, request);
        WriteText(writer, request);
        WriteLogprobs(writer, request, logprobs);

        // Same-name Chat fields; the Chat side applies its own policy to them (towards Gemini, each is dropped and
        // reported under this same name: see ChatRequestInventory).
        foreach (var name in (ReadOnlySpan<string>)["user", "safety_identifier", "prompt_cache_key", "prompt_cache_retention", "service_tier"])
        {
            CopyString(writer, request, name);
        }

        foreach (var name in (ReadOnlySpan<string>)["prompt_cache_options", "moderation"])
        {
            var value = OptionalObject(Get(request, name), name);
            if (IsSet(value))
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }
        }

        // metadata is checked but not sent: real Chat refuses it unless the completion is stored there ("The
        // 'metadata' parameter is only allowed when 'store' is enabled"), and storing is the gateway's job on this
        // route. It is bookkeeping the response side echoes from the request; the answer does not depend on it.
        OptionalObject(Get(request, "metadata"), "metadata");

        if (googleThoughts && summary is not null)
        {
            writer.WritePropertyName("extra_body"u8);
            writer.WriteStartObject();
            writer.WritePropertyName("google"u8);
            writer.WriteStartObject();
            writer.WritePropertyName("thinking_config"u8);
            writer.WriteStartObject();
            writer.WriteBoolean("include_thoughts"u8, true);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.Flush();
        return new ResponsesRequestFacts(webSearch, summary, searchSources);
    }

    /// <summary>
    /// call_ids of <c>function_call</c> items in <c>input</c> (and <paramref name="prior"/>) that carry no thought
    /// signature (no sealed reasoning item right before them), so the host can recall their signatures from its
    /// cache. Never throws: odd input reads as what can be read, and translation refuses it afterwards.
    /// </summary>
    public static IReadOnlyList<string> UnsignedCallIds(JsonElement request, JsonElement? prior)
    {
        var ids = new List<string>();
        var signatures = new ResponsesToChatInput.SignatureTracker();
        foreach (var items in (ReadOnlySpan<JsonElement>)[prior ?? default, request.ValueKind == JsonValueKind.Object ? Get(request, "input") : default])
        {
            if (items.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var item in items.EnumerateArray())
            {
                var isCall = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("function_call"u8);
                if (signatures.Step(item) is null && isCall
                    && item.TryGetProperty("call_id", out var id) && id.ValueKind == JsonValueKind.String)
                {
                    ids.Add(id.GetString()!);
                }
            }
        }

        return ids;
    }

    /// <summary>
    /// The fields the gateway acts on itself and never sends upstream: checked here so that a request this route
    /// cannot serve is refused before any upstream call. Returns whether <c>include</c> asks for logprobs and for
    /// search sources.
    /// </summary>
    private static (bool Logprobs, bool SearchSources) CheckGatewayFields(JsonElement request)
    {
        ClientFields.OptionalBoolean(Get(request, "store"), "store");
        ClientFields.OptionalString(Get(request, "previous_response_id"), "previous_response_id");
        OptionalChoice(Get(request, "truncation"), "truncation", "auto", "disabled");

        var streamOptions = OptionalObject(Get(request, "stream_options"), "stream_options");
        if (IsSet(streamOptions))
        {
            // Obfuscation pads stream events against size side channels; the gateway's events carry none either way.
            ClientFields.OptionalBoolean(Get(streamOptions, "include_obfuscation"), "stream_options.include_obfuscation");
        }

        if (ClientFields.OptionalBoolean(Get(request, "background"), "background") == true)
        {
            throw new TranslationException("background", "Background responses are not supported by this gateway.");
        }

        foreach (var name in (ReadOnlySpan<string>)["conversation", "prompt", "max_tool_calls"])
        {
            if (IsSet(Get(request, name)))
            {
                throw new TranslationException(name, $"'{name}' is not supported by this gateway.");
            }
        }

        // Compaction rewrites the conversation server-side; nothing on the Chat side can do it for us.
        if (OptionalArray(Get(request, "context_management"), "context_management") is { ValueKind: JsonValueKind.Array } management && management.GetArrayLength() > 0)
        {
            throw new TranslationException("context_management", "'context_management' is not supported by this gateway.");
        }

        var include = OptionalArray(Get(request, "include"), "include");
        var (logprobs, sources) = (false, false);
        if (include.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var value in include.EnumerateArray())
            {
                var param = $"include[{i++}]";
                var name = ClientFields.OptionalString(value, param) ?? throw new TranslationException(param, "Each 'include' value must be a string.");
                if (!Includable.Contains(name, StringComparer.Ordinal))
                {
                    throw new TranslationException(param, $"include value '{name}' is not supported by this gateway; it supports {string.Join(", ", Includable)}.");
                }

                logprobs |= name == IncludeLogprobs;
                sources |= name == IncludeSearchSources;
            }
        }

        return (logprobs, sources);
    }

    /// <summary>
    /// <c>reasoning.effort</c> → <c>reasoning_effort</c>. The summary has no Chat field (the Gemini side's way to ask
    /// for thoughts, Google's <c>extra_body</c>, would make a real OpenAI upstream refuse the request), so it is only
    /// returned for the facts. Returns the summary asked for.
    /// </summary>
    private static string? WriteReasoning(Utf8JsonWriter writer, JsonElement request)
    {
        var reasoning = OptionalObject(Get(request, "reasoning"), "reasoning");
        if (!IsSet(reasoning))
        {
            return null;
        }

        var effort = Get(reasoning, "effort");
        if (OptionalChoice(effort, "reasoning.effort", Efforts) is not null)
        {
            writer.WritePropertyName("reasoning_effort"u8);
            effort.WriteTo(writer);
        }

        // Pro mode runs the model differently (and bills differently); a Chat upstream cannot be asked for it.
        OptionalChoice(Get(reasoning, "mode"), "reasoning.mode", "standard");

        // Which earlier reasoning items the model sees again: this route never sends reasoning text back (see
        // ResponsesToChatInput), so every mode comes to the same request.
        OptionalChoice(Get(reasoning, "context"), "reasoning.context", "auto", "current_turn", "all_turns");

        var deprecated = OptionalChoice(Get(reasoning, "generate_summary"), "reasoning.generate_summary", Summaries);
        return OptionalChoice(Get(reasoning, "summary"), "reasoning.summary", Summaries) ?? deprecated;
    }

    /// <summary><c>text.format</c> → <c>response_format</c>, <c>text.verbosity</c> → <c>verbosity</c>.</summary>
    private static void WriteText(Utf8JsonWriter writer, JsonElement request)
    {
        var text = OptionalObject(Get(request, "text"), "text");
        if (!IsSet(text))
        {
            return;
        }

        var format = OptionalObject(Get(text, "format"), "text.format");
        if (IsSet(format))
        {
            switch (RequiredString(format, "type", "text.format"))
            {
                case "text":
                    break;
                case "json_object":
                    writer.WritePropertyName("response_format"u8);
                    writer.WriteStartObject();
                    writer.WriteString("type"u8, "json_object");
                    writer.WriteEndObject();
                    break;
                case "json_schema":
                    WriteJsonSchemaFormat(writer, format);
                    break;
                case var other:
                    throw new TranslationException("text.format.type", $"Invalid value for 'type': '{other}'. Supported values are: 'text', 'json_object', 'json_schema'.");
            }
        }

        // A hint the Gemini side ignores; a real OpenAI upstream honours it.
        var verbosity = Get(text, "verbosity");
        if (OptionalChoice(verbosity, "text.verbosity", Verbosities) is not null)
        {
            writer.WritePropertyName("verbosity"u8);
            verbosity.WriteTo(writer);
        }
    }

    private static void WriteJsonSchemaFormat(Utf8JsonWriter writer, JsonElement format)
    {
        const string Param = "text.format";
        var name = RequiredString(format, "name", Param);
        var schema = OptionalObject(Get(format, "schema"), Param + ".schema");
        if (!IsSet(schema))
        {
            throw new TranslationException(Param + ".schema", "Missing required parameter: 'text.format.schema'.");
        }

        var description = ClientFields.OptionalString(format, "description", Param);
        var strict = ClientFields.OptionalBoolean(Get(format, "strict"), Param + ".strict");

        writer.WritePropertyName("response_format"u8);
        writer.WriteStartObject();
        writer.WriteString("type"u8, "json_schema");
        writer.WritePropertyName("json_schema"u8);
        writer.WriteStartObject();
        writer.WriteString("name"u8, name);
        if (description is not null)
        {
            writer.WriteString("description"u8, description);
        }

        writer.WritePropertyName("schema"u8);
        schema.WriteTo(writer);
        if (strict is not null)
        {
            writer.WriteBoolean("strict"u8, strict.Value);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>
    /// <c>include: ["message.output_text.logprobs"]</c> and <c>top_logprobs</c> → Chat's <c>logprobs</c> and
    /// <c>top_logprobs</c>, which the Gemini side maps too. Chat takes <c>top_logprobs</c> only with
    /// <c>logprobs: true</c>, and asking for alternatives is asking for logprobs, so either turns logprobs on.
    /// </summary>
    private static void WriteLogprobs(Utf8JsonWriter writer, JsonElement request, bool included)
    {
        var top = ClientFields.OptionalInt32(Get(request, "top_logprobs"), "top_logprobs");
        if (top is < 0 or > UpstreamModelProfile.OpenAIMaxTopLogprobs)
        {
            throw new TranslationException("top_logprobs", $"'top_logprobs' must be between 0 and {UpstreamModelProfile.OpenAIMaxTopLogprobs}.");
        }

        if (!included && top is null or 0)
        {
            return;
        }

        writer.WriteBoolean("logprobs"u8, true);
        if (top is > 0)
        {
            writer.WriteNumber("top_logprobs"u8, top.Value);
        }
    }

    private static void CopyNumber(Utf8JsonWriter writer, JsonElement request, string name)
    {
        var value = Get(request, name);
        if (OptionalNumber(value, name) is not null)
        {
            writer.WritePropertyName(name);
            value.WriteTo(writer);
        }
    }

    private static void CopyString(Utf8JsonWriter writer, JsonElement request, string name)
    {
        if (ClientFields.OptionalString(Get(request, name), name) is { } value)
        {
            writer.WriteString(name, value);
        }
    }
}
