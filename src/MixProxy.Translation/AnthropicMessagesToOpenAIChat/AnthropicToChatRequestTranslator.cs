using System.Buffers;
using System.Collections.Frozen;
using System.Text.Json;
using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using static MixProxy.Translation.AnthropicMessages.AnthropicFields;

namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>
/// Translates an Anthropic Messages request body into an OpenAI Chat Completions body, one concern per class:
/// <see cref="AnthropicToChatMessages"/> (system and messages), <see cref="AnthropicToChatTools"/> (tools and tool
/// choice), <see cref="AnthropicToChatThinking"/> (thinking and effort); the knobs are here. The body is meant both
/// for a real Chat Completions upstream and for the Chat → Gemini translator (<c>towardsGemini</c> in
/// <see cref="Translate"/>), so it uses the fields real Chat accepts, and Google's <c>extra_body</c> only on the way to
/// Gemini. What would change the answer and has no Chat spelling is refused naming the field as the client wrote
/// it; what does not (a sampling hint the upstream lacks) is dropped and reported (<see cref="DroppedFields"/>).
/// </summary>
internal static class AnthropicToChatRequestTranslator
{
    // Every field of a create-message request this route knows; anything else is refused, as Anthropic refuses it.
    private static readonly FrozenSet<string> KnownFields = FrozenSet.ToFrozenSet(
    [
        "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature", "top_k",
        "top_p", "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers", "context_management",
        "output_config", "output_format", "cache_control", "inference_geo", "speed",
    ], StringComparer.Ordinal);

    /// <summary>
    /// Writes the Chat Completions body for <paramref name="request"/> (the Anthropic body's root object) under
    /// <paramref name="model"/>. <paramref name="counting"/>: a <c>count_tokens</c> body, which has no output cap and
    /// never streams.
    /// </summary>
    public static AnthropicRequestFacts Translate(
        JsonElement request,
        string model,
        UpstreamModelProfile profile,
        bool towardsGemini,
        bool counting,
        DroppedFields dropped,
        IBufferWriter<byte> chatBody)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(dropped);
        if (request.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(null, "The request body must be a JSON object.");
        }

        foreach (var field in request.EnumerateObject())
        {
            if (!KnownFields.Contains(field.Name) || (counting && field.Name is "max_tokens" or "stream" or "stop_sequences" or "temperature" or "top_k" or "top_p" or "metadata" or "service_tier" or "inference_geo" or "speed"))
            {
                throw new TranslationException(field.Name, $"{field.Name}: Extra inputs are not permitted");
            }
        }

        CheckUnservedFields(request, dropped);

        using var writer = new Utf8JsonWriter(chatBody, WireJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("model"u8, model);
        AnthropicToChatMessages.WriteMessages(writer, request, towardsGemini, dropped);
        var webSearch = AnthropicToChatTools.WriteTools(writer, request, dropped);

        long? maxTokens = null;
        if (!counting)
        {
            if (ClientFields.OptionalBoolean(Get(request, "stream"), "stream") == true)
            {
                writer.WriteBoolean("stream"u8, true);

                // Always asked for: every request's usage is settled, and an Anthropic stream always reports it.
                writer.WritePropertyName("stream_options"u8);
                writer.WriteStartObject();
                writer.WriteBoolean("include_usage"u8, true);
                writer.WriteEndObject();
            }

            maxTokens = AnthropicUsage.MaxOutputTokens(request) ?? throw new TranslationException("max_tokens", "max_tokens: Field required");
            writer.WriteNumber("max_completion_tokens"u8, maxTokens.Value);
            WriteSampling(writer, request, towardsGemini, dropped);
            WriteMetadata(writer, request);
        }

        var showsThinking = AnthropicToChatThinking.Write(writer, request, profile, towardsGemini, maxTokens, dropped);
        WriteOutputFormat(writer, request);
        writer.WriteEndObject();
        writer.Flush();
        return new AnthropicRequestFacts(showsThinking, webSearch);
    }

    /// <summary>
    /// Fields that ask for something no upstream behind this route has: refused when they change the answer or where
    /// it is computed, dropped and reported when they only tune how it is served.
    /// </summary>
    private static void CheckUnservedFields(JsonElement request, DroppedFields dropped)
    {
        // Server-side containers and MCP connections run tools at Anthropic; nothing here can run them.
        if (IsSet(Get(request, "container")))
        {
            throw new TranslationException("container", "container: code-execution containers are not available on this gateway's models.");
        }

        if (OptionalArray(Get(request, "mcp_servers"), "mcp_servers") is { ValueKind: JsonValueKind.Array } servers && servers.GetArrayLength() > 0)
        {
            throw new TranslationException("mcp_servers", "mcp_servers: the MCP connector is not available on this gateway's models; connect MCP servers in the client.");
        }

        // Context editing rewrites the conversation server-side; leaving it out would send a longer one than asked.
        if (IsSet(OptionalObject(Get(request, "context_management"), "context_management")))
        {
            throw new TranslationException("context_management", "context_management: context editing is not available on this gateway's models.");
        }

        // Where inference may run is a data-residency demand: not one to drop.
        if (ClientFields.OptionalString(Get(request, "inference_geo"), "inference_geo") is not null)
        {
            throw new TranslationException("inference_geo", "inference_geo: this gateway cannot choose where its upstreams run inference.");
        }

        OptionalChoice(Get(request, "service_tier"), "service_tier", "auto", "standard_only");
        if (IsSet(Get(request, "service_tier")))
        {
            dropped.Drop("service_tier", "service_tier: the upstream has no capacity tiers to choose from.");
        }

        if (IsSet(Get(request, "speed")))
        {
            dropped.Drop("speed", "speed: the upstream has no faster mode to ask for.");
        }

        // A prompt-cache breakpoint: the upstreams here cache on their own (or not at all); the answer is the same.
        OptionalObject(Get(request, "cache_control"), "cache_control");
    }

    private static void WriteSampling(Utf8JsonWriter writer, JsonElement request, bool towardsGemini, DroppedFields dropped)
    {
        foreach (var name in (ReadOnlySpan<string>)["temperature", "top_p"])
        {
            var value = Get(request, name);
            if (OptionalNumber(value, name) is not null)
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }
        }

        var topK = Get(request, "top_k");
        if (ClientFields.OptionalInt32(topK, "top_k") is { } k)
        {
            if (k < 0)
            {
                throw new TranslationException("top_k", "top_k: Input should be greater than or equal to 0");
            }

            // Gemini has topK (the Chat → Gemini side reads Chat's top_k); Chat Completions has none.
            if (towardsGemini)
            {
                writer.WriteNumber("top_k"u8, k);
            }
            else
            {
                dropped.Drop("top_k", "top_k: Chat Completions upstreams have no top-k sampling.");
            }
        }

        var stops = OptionalArray(Get(request, "stop_sequences"), "stop_sequences");
        if (stops.ValueKind == JsonValueKind.Array && stops.GetArrayLength() > 0)
        {
            writer.WritePropertyName("stop"u8);
            writer.WriteStartArray();
            var i = 0;
            foreach (var stop in stops.EnumerateArray())
            {
                var param = $"stop_sequences[{i++}]";
                writer.WriteStringValue(ClientFields.OptionalString(stop, param) ?? throw new TranslationException(param, $"{param}: Input should be a valid string"));
            }

            writer.WriteEndArray();
        }
    }

    /// <summary><c>metadata.user_id</c> → Chat's <c>user</c> (an end-user id for abuse detection; the Gemini side ignores it).</summary>
    private static void WriteMetadata(Utf8JsonWriter writer, JsonElement request)
    {
        var metadata = OptionalObject(Get(request, "metadata"), "metadata");
        if (!IsSet(metadata))
        {
            return;
        }

        foreach (var field in metadata.EnumerateObject())
        {
            if (field.Name != "user_id")
            {
                throw new TranslationException("metadata." + field.Name, $"metadata.{field.Name}: Extra inputs are not permitted");
            }
        }

        if (ClientFields.OptionalString(Get(metadata, "user_id"), "metadata.user_id") is { Length: > 0 } user)
        {
            writer.WriteString("user"u8, user);
        }
    }

    /// <summary>
    /// <c>output_config.format</c> (or the beta's <c>output_format</c>) <c>{"type":"json_schema","schema":…}</c> →
    /// Chat's <c>response_format</c> with that schema.
    /// </summary>
    private static void WriteOutputFormat(Utf8JsonWriter writer, JsonElement request)
    {
        var config = OptionalObject(Get(request, "output_config"), "output_config");
        if (IsSet(config))
        {
            foreach (var field in config.EnumerateObject())
            {
                if (field.Name is not ("effort" or "format"))
                {
                    throw new TranslationException("output_config." + field.Name, $"output_config.{field.Name}: Extra inputs are not permitted");
                }
            }
        }

        var (format, param) = IsSet(Get(config, "format")) ? (Get(config, "format"), "output_config.format") : (Get(request, "output_format"), "output_format");
        if (IsSet(Get(config, "format")) && IsSet(Get(request, "output_format")))
        {
            throw new TranslationException("output_format", "output_format: send output_config.format or output_format, not both.");
        }

        format = OptionalObject(format, param);
        if (!IsSet(format))
        {
            return;
        }

        var type = RequiredString(format, "type", param);
        if (type != "json_schema")
        {
            throw new TranslationException(param + ".type", $"{param}.type: Input should be 'json_schema'");
        }

        var schema = OptionalObject(Get(format, "schema"), param + ".schema");
        if (!IsSet(schema))
        {
            throw new TranslationException(param + ".schema", $"{param}.schema: Field required");
        }

        writer.WritePropertyName("response_format"u8);
        writer.WriteStartObject();
        writer.WriteString("type"u8, "json_schema");
        writer.WritePropertyName("json_schema"u8);
        writer.WriteStartObject();
        writer.WriteString("name"u8, "output");
        writer.WritePropertyName("schema"u8);
        schema.WriteTo(writer);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
