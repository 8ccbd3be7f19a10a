using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using static MixProxy.Translation.AnthropicMessages.AnthropicFields;

namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>
/// Anthropic <c>tools</c> and <c>tool_choice</c> → Chat's <c>tools</c>, <c>tool_choice</c>, <c>parallel_tool_calls</c>
/// and <c>web_search_options</c>. Client tools become functions with their <c>input_schema</c>; those marked
/// <c>defer_loading</c> are not offered (the client loads them through a tool search this route has not got); the
/// web search server tool becomes Chat's web search (Google Search on Gemini). Other server tools run at Anthropic
/// and are refused.
/// </summary>
internal static class AnthropicToChatTools
{
    /// <summary>Writes the tool fields; returns whether web search went up.</summary>
    public static bool WriteTools(Utf8JsonWriter writer, JsonElement request, DroppedFields dropped)
    {
        var functions = new List<(string Name, JsonElement Tool, string Param)>();
        var search = false;
        var tools = OptionalArray(Get(request, "tools"), "tools");
        if (tools.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var param = $"tools[{i++}]";
                if (tool.ValueKind != JsonValueKind.Object)
                {
                    throw new TranslationException(param, $"{param}: Input should be an object");
                }

                var type = ClientFields.OptionalString(Get(tool, "type"), param + ".type");
                if (type is null or "custom")
                {
                    var name = RequiredString(tool, "name", param);
                    var schema = OptionalObject(Get(tool, "input_schema"), param + ".input_schema");
                    if (!IsSet(schema))
                    {
                        throw new TranslationException(param + ".input_schema", $"{param}.input_schema: Field required");
                    }

                    if (IsSet(OptionalArray(Get(tool, "input_examples"), param + ".input_examples")))
                    {
                        dropped.Drop(param + ".input_examples", "Tool input examples have no place in a Chat Completions function.");
                    }

                    if (ClientFields.OptionalBoolean(Get(tool, "defer_loading"), param + ".defer_loading") != true)
                    {
                        functions.Add((name, tool, param));
                    }
                }
                else if (type.StartsWith("web_search_", StringComparison.Ordinal))
                {
                    CheckSearch(tool, param, dropped);
                    search = true;
                }
                else
                {
                    throw new TranslationException(param + ".type", $"{param}.type: the server tool '{type}' runs at Anthropic and is not available on this gateway's models; it takes client tools and web search.");
                }
            }
        }

        var names = functions.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var choice = OptionalObject(Get(request, "tool_choice"), "tool_choice");
        string? mode = null;
        string? forced = null;
        var parallel = true;
        if (IsSet(choice))
        {
            mode = OptionalChoice(Get(choice, "type"), "tool_choice.type", "auto", "any", "tool", "none")
                ?? throw new TranslationException("tool_choice.type", "tool_choice.type: Field required");
            if (mode == "tool")
            {
                forced = RequiredString(choice, "name", "tool_choice");
                if (!names.Contains(forced))
                {
                    throw new TranslationException("tool_choice.name", $"tool_choice.name: no tool named '{forced}' is offered (tools marked defer_loading are not).");
                }
            }

            parallel = ClientFields.OptionalBoolean(Get(choice, "disable_parallel_tool_use"), "tool_choice.disable_parallel_tool_use") != true;
        }

        if (functions.Count > 0)
        {
            writer.WritePropertyName("tools"u8);
            writer.WriteStartArray();
            foreach (var (name, tool, param) in functions)
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "function");
                writer.WritePropertyName("function"u8);
                writer.WriteStartObject();
                writer.WriteString("name"u8, name);
                if (ClientFields.OptionalString(Get(tool, "description"), param + ".description") is { } description)
                {
                    writer.WriteString("description"u8, description);
                }

                writer.WritePropertyName("parameters"u8);
                Get(tool, "input_schema").WriteTo(writer);
                if (ClientFields.OptionalBoolean(Get(tool, "strict"), param + ".strict") is { } strict)
                {
                    writer.WriteBoolean("strict"u8, strict);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (search)
        {
            writer.WritePropertyName("web_search_options"u8);
            writer.WriteStartObject();
            writer.WriteEndObject();
        }

        // Chat refuses tool_choice and parallel_tool_calls without tools; with none offered they mean nothing.
        if (functions.Count == 0)
        {
            return search;
        }

        switch (mode)
        {
            case "auto":
                writer.WriteString("tool_choice"u8, "auto");
                break;
            case "any":
                writer.WriteString("tool_choice"u8, "required");
                break;
            case "none":
                writer.WriteString("tool_choice"u8, "none");
                break;
            case "tool":
                writer.WritePropertyName("tool_choice"u8);
                writer.WriteStartObject();
                writer.WriteString("type"u8, "function");
                writer.WritePropertyName("function"u8);
                writer.WriteStartObject();
                writer.WriteString("name"u8, forced);
                writer.WriteEndObject();
                writer.WriteEndObject();
                break;
        }

        if (!parallel)
        {
            writer.WriteBoolean("parallel_tool_calls"u8, false);
        }

        return search;
    }

    /// <summary>Domain filters change what may be found: refused. A use cap and a location only tune it: dropped and reported.</summary>
    private static void CheckSearch(JsonElement tool, string param, DroppedFields dropped)
    {
        foreach (var name in (ReadOnlySpan<string>)["allowed_domains", "blocked_domains"])
        {
            if (IsSet(OptionalArray(Get(tool, name), $"{param}.{name}")))
            {
                throw new TranslationException($"{param}.{name}", $"{param}.{name}: web search on this gateway's models cannot be limited to or kept from domains.");
            }
        }

        foreach (var name in (ReadOnlySpan<string>)["max_uses", "user_location"])
        {
            if (IsSet(Get(tool, name)))
            {
                dropped.Drop($"{param}.{name}", $"Web search on this gateway's models takes no '{name}'.");
            }
        }
    }
}
