using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChatToGemini;
using MixProxy.Translation.Protocols;
using static MixProxy.Translation.OpenAIResponsesToOpenAIChat.ResponsesToChatFields;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>
/// Responses → Chat Completions: function tools move under <c>function</c>, the hosted web search becomes the
/// parameterless <c>web_search</c> function (the provider's spelling, which the Gemini side turns into Google Search),
/// and <c>tool_choice</c> follows. Other hosted tools run on OpenAI's servers only and are refused.
/// </summary>
internal static class ResponsesToChatTools
{
    /// <summary>What <c>tool_choice</c> asks for, in Chat's terms.</summary>
    /// <param name="Mode"><c>auto</c>, <c>none</c> or <c>required</c>; null for a named function or no choice.</param>
    /// <param name="Function">The one function the model must call.</param>
    /// <param name="Allowed">For <c>allowed_tools</c>: the function names the model may call (the search as <c>web_search</c>).</param>
    private sealed record Choice(string? Mode, string? Function, HashSet<string>? Allowed);

    private const string SearchFunction = "web_search";

    /// <summary>Writes <c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls</c>; returns whether web search went up.</summary>
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
                    throw new TranslationException(param, "Each tool must be an object.");
                }

                var type = RequiredString(tool, "type", param);
                if (type == "function")
                {
                    functions.Add((CheckFunction(tool, param), tool, param));
                }
                else if (IsWebSearch(type))
                {
                    CheckSearchOptions(tool, param, dropped);
                    search = true;
                }
                else
                {
                    throw new TranslationException(param + ".type", $"Tool type '{type}' is not supported on this route; it supports 'function' and 'web_search'.");
                }
            }
        }

        var choice = ReadChoice(request, functions.Select(f => f.Name).ToHashSet(StringComparer.Ordinal), search);
        var parallel = ClientFields.OptionalBoolean(Get(request, "parallel_tool_calls"), "parallel_tool_calls");

        // allowed_tools goes up as the allowed tools alone: the Chat → Gemini side has no allowed_tools, and a tool
        // that is not sent cannot be called on any upstream. (A real OpenAI upstream loses some prompt caching when the
        // allowed set changes; the answer is the same.)
        if (choice?.Allowed is { } allowed)
        {
            functions.RemoveAll(f => !allowed.Contains(f.Name));
            search &= allowed.Contains(SearchFunction);
        }

        if (search && functions.FindIndex(f => f.Name == SearchFunction) is var clash and >= 0)
        {
            // Both would go up as functions of one name, and the upstream could not tell which one the model called.
            throw new TranslationException(functions[clash].Param + ".name", $"A function named '{SearchFunction}' cannot be sent together with the web search tool on this route.");
        }

        if (functions.Count == 0 && !search)
        {
            // Chat refuses tool_choice and parallel_tool_calls without tools, and Responses clients often send them
            // anyway; with no tool to choose they mean nothing.
            return false;
        }

        writer.WritePropertyName("tools"u8);
        writer.WriteStartArray();
        foreach (var (name, tool, param) in functions)
        {
            WriteFunction(writer, name, tool, param);
        }

        if (search)
        {
            // Exactly the provider's built-in spelling: no parameters, which is what tells the Gemini side it is the
            // search and not a client function of that name.
            writer.WriteStartObject();
            writer.WriteString("type"u8, "function");
            writer.WritePropertyName("function"u8);
            writer.WriteStartObject();
            writer.WriteString("name"u8, SearchFunction);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        if (choice is not null)
        {
            writer.WritePropertyName("tool_choice"u8);
            if (choice.Function is { } function)
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "function");
                writer.WritePropertyName("function"u8);
                writer.WriteStartObject();
                writer.WriteString("name"u8, function);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStringValue(choice.Mode);
            }
        }

        if (parallel is not null)
        {
            writer.WriteBoolean("parallel_tool_calls"u8, parallel.Value);
        }

        return search;
    }

    /// <summary><c>web_search</c>, <c>web_search_preview</c> and their dated versions (<c>web_search_2025_08_26</c>).</summary>
    private static bool IsWebSearch(string type) =>
        type is "web_search" or "web_search_preview"
        || type.StartsWith("web_search_20", StringComparison.Ordinal)
        || type.StartsWith("web_search_preview_20", StringComparison.Ordinal);

    private static string CheckFunction(JsonElement tool, string param)
    {
        var name = RequiredString(tool, "name", param);
        ClientFields.OptionalString(tool, "description", param);
        OptionalObject(Get(tool, "parameters"), param + ".parameters");
        ClientFields.OptionalBoolean(Get(tool, "strict"), param + ".strict");
        return name;
    }

    private static void WriteFunction(Utf8JsonWriter writer, string name, JsonElement tool, string param)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "function");
        writer.WritePropertyName("function"u8);
        writer.WriteStartObject();
        writer.WriteString("name"u8, name);
        if (ClientFields.OptionalString(tool, "description", param) is { } description)
        {
            writer.WriteString("description"u8, description);
        }

        var parameters = Get(tool, "parameters");
        if (IsSet(parameters))
        {
            writer.WritePropertyName("parameters"u8);
            parameters.WriteTo(writer);
        }
        else if (ChatTools.BuiltInSearchNames.Contains(name, StringComparer.Ordinal))
        {
            // The client's own function of a built-in search name keeps an (empty) schema, so that the Gemini side
            // does not take it for the search; additionalProperties false keeps it valid under strict mode too.
            writer.WritePropertyName("parameters"u8);
            writer.WriteStartObject();
            writer.WriteString("type"u8, "object");
            writer.WritePropertyName("properties"u8);
            writer.WriteStartObject();
            writer.WriteEndObject();
            writer.WriteBoolean("additionalProperties"u8, false);
            writer.WriteEndObject();
        }

        // Only an explicit strict goes up. Responses defaults it to true and Chat to false, but forcing true would turn
        // every schema strict mode cannot take into a refusal, and the Gemini side ignores it either way.
        if (ClientFields.OptionalBoolean(Get(tool, "strict"), param + ".strict") is { } strict)
        {
            writer.WriteBoolean("strict"u8, strict);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>
    /// Google Search takes no options. <c>search_context_size</c> is a hint about how much retrieved text the model
    /// reads: dropped and reported. A location or a domain filter would change which results the answer rests on, so
    /// they are refused rather than ignored.
    /// </summary>
    private static void CheckSearchOptions(JsonElement tool, string param, DroppedFields dropped)
    {
        if (OptionalChoice(Get(tool, "search_context_size"), param + ".search_context_size", "low", "medium", "high") is not null)
        {
            dropped.Drop(param + ".search_context_size", "Google Search takes no search context size.");
        }

        var location = OptionalObject(Get(tool, "user_location"), param + ".user_location");
        if (IsSet(location) && location.EnumerateObject().Any(f => f.Name != "type" && IsSet(f.Value)))
        {
            throw new TranslationException(param + ".user_location", "A web search user location is not supported on this route.");
        }

        var filters = OptionalObject(Get(tool, "filters"), param + ".filters");
        if (IsSet(filters) && OptionalArray(Get(filters, "allowed_domains"), param + ".filters.allowed_domains") is { ValueKind: JsonValueKind.Array } domains && domains.GetArrayLength() > 0)
        {
            throw new TranslationException(param + ".filters", "Web search domain filters are not supported on this route.");
        }

        // Live access off means cached pages only, which Google Search cannot promise.
        if (ClientFields.OptionalBoolean(Get(tool, "external_web_access"), param + ".external_web_access") == false)
        {
            throw new TranslationException(param + ".external_web_access", "Web search without live internet access is not supported on this route.");
        }
    }

    private static Choice? ReadChoice(JsonElement request, HashSet<string> functionNames, bool search)
    {
        const string Param = "tool_choice";
        var choice = Get(request, Param);
        switch (choice.ValueKind)
        {
            case JsonValueKind.Undefined:
                return null;
            case JsonValueKind.String:
                return new Choice(OptionalChoice(choice, Param, "auto", "none", "required"), null, null);
            case JsonValueKind.Object:
                break;
            default:
                throw new TranslationException(Param, "'tool_choice' must be a string or an object.");
        }

        switch (RequiredString(choice, "type", Param))
        {
            case "function":
                var name = RequiredString(choice, "name", Param);
                return functionNames.Contains(name)
                    ? new Choice(null, name, null)
                    : throw new TranslationException(Param + ".name", $"tool_choice names function '{name}', which is not among the tools.");
            case "allowed_tools":
                var mode = OptionalChoice(Get(choice, "mode"), Param + ".mode", "auto", "required")
                    ?? throw new TranslationException(Param + ".mode", "Missing required parameter: 'tool_choice.mode'.");
                return new Choice(mode, null, ReadAllowed(choice, functionNames, search));
            case var hosted when IsWebSearch(hosted):
                // Google Search is the model's to use or not; nothing on the Chat or Gemini side can force it.
                throw new TranslationException(Param + ".type", "Forcing the web search tool is not supported on this route; use 'auto' or 'required'.");
            case var other:
                throw new TranslationException(Param + ".type", $"tool_choice type '{other}' is not supported on this route.");
        }
    }

    private static HashSet<string> ReadAllowed(JsonElement choice, HashSet<string> functionNames, bool search)
    {
        var tools = OptionalArray(Get(choice, "tools"), "tool_choice.tools");
        if (tools.ValueKind != JsonValueKind.Array)
        {
            throw new TranslationException("tool_choice.tools", "Missing required parameter: 'tool_choice.tools'.");
        }

        var allowed = new HashSet<string>(StringComparer.Ordinal);
        var k = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var param = $"tool_choice.tools[{k++}]";
            if (tool.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException(param, "Each allowed tool must be an object.");
            }

            var type = RequiredString(tool, "type", param);
            if (type == "function")
            {
                var name = RequiredString(tool, "name", param);
                allowed.Add(functionNames.Contains(name) ? name : throw new TranslationException(param + ".name", $"Allowed tool '{name}' is not among the tools."));
            }
            else if (IsWebSearch(type))
            {
                allowed.Add(search ? SearchFunction : throw new TranslationException(param + ".type", "The web search tool is allowed but not among the tools."));
            }
            else
            {
                throw new TranslationException(param + ".type", $"Tool type '{type}' is not supported on this route.");
            }
        }

        return allowed;
    }
}
