using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>What of the request a translated response repeats, and the request's input as a stored response lists it.</summary>
internal static class ResponsesEcho
{
    /// <summary>The settings a response object repeats, with OpenAI's defaults for those the request left out.</summary>
    private static readonly (string Name, string Default)[] Settings =
    [
        ("instructions", "null"),
        ("max_output_tokens", "null"),
        ("max_tool_calls", "null"),
        ("metadata", "{}"),
        ("parallel_tool_calls", "true"),
        ("previous_response_id", "null"),
        ("prompt_cache_key", "null"),
        ("reasoning", """{"effort":null,"summary":null}"""),
        ("safety_identifier", "null"),
        ("service_tier", "\"default\""),
        ("temperature", "null"),
        ("text", """{"format":{"type":"text"}}"""),
        ("tool_choice", "\"auto\""),
        ("tools", "[]"),
        ("top_logprobs", "0"),
        ("top_p", "null"),
        ("truncation", "\"disabled\""),
        ("user", "null"),
    ];

    /// <summary>
    /// An object of the settings, as UTF-8 bytes of its own: it outlives the request's parsed body, and a response
    /// writes its members again for every event that carries the whole response (<see cref="WriteMembers"/>).
    /// </summary>
    public static ReadOnlyMemory<byte> Of(JsonElement request, bool store)
    {
        // NOTE: kept as bytes, not as a parsed element: a standalone JsonElement is a copy of the bytes plus its own
        // token table, several times the bytes, and a stream holds it for its whole life.
        using var buffer = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var (name, fallback) in Settings)
            {
                writer.WritePropertyName(name);
                if (request.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
                {
                    value.WriteTo(writer);
                }
                else
                {
                    writer.WriteRawValue(fallback, skipInputValidation: true);
                }
            }

            writer.WriteBoolean(OpenAIResponsesVocabulary.Store, store);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the members of an object <see cref="Of"/> made into the object <paramref name="writer"/> is in.</summary>
    public static void WriteMembers(Utf8JsonWriter writer, ReadOnlySpan<byte> echo)
    {
        var reader = new Utf8JsonReader(echo);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // The names are the fixed ones of Settings, never escaped; the values were written by the same writer
            // options, so they go out as they are.
            writer.WritePropertyName(reader.ValueSpan);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            writer.WriteRawValue(echo[start..(int)reader.BytesConsumed], skipInputValidation: true);
        }
    }

    /// <summary>
    /// The request's input as a list of items, each with an id (OpenAI gives input items ids too; the stored response
    /// lists them by it): a string input is one user message.
    /// </summary>
    public static ReadOnlyMemory<byte> InputItems(JsonElement request)
    {
        // Pooled, then an exact copy: the response holds the input until it is stored.
        using var buffer = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            writer.WriteStartArray();
            var input = request.TryGetProperty(OpenAIResponsesVocabulary.Input, out var value) ? value : default;
            if (input.ValueKind == JsonValueKind.String)
            {
                writer.WriteStartObject();
                writer.WriteString("id"u8, ItemIds.Message());
                writer.WriteString("type"u8, "message");
                writer.WriteString("role"u8, "user");
                writer.WritePropertyName("content"u8);
                writer.WriteStartArray();
                writer.WriteStartObject();
                writer.WriteString("type"u8, "input_text");
                writer.WritePropertyName("text"u8);
                input.WriteTo(writer);
                writer.WriteEndObject();
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            else if (input.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in input.EnumerateArray())
                {
                    WriteWithId(writer, item);
                }
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteWithId(Utf8JsonWriter writer, JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object || item.TryGetProperty("id"u8, out _))
        {
            item.WriteTo(writer);
            return;
        }

        var type = item.TryGetProperty("type"u8, out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "message";
        writer.WriteStartObject();
        writer.WriteString("id"u8, type switch
        {
            "function_call" => ItemIds.FunctionCall(),
            "function_call_output" => ResponsesRecord.NewId("fco_"),
            "reasoning" => ItemIds.Reasoning(),
            _ => ItemIds.Message(),
        });
        foreach (var property in item.EnumerateObject())
        {
            property.WriteTo(writer);
        }

        writer.WriteEndObject();
    }
}
