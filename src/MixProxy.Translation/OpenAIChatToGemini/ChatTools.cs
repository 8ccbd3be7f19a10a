using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>Chat Completions → Gemini: <c>tools</c> become function declarations and Google Search, <c>tool_choice</c> a <c>toolConfig</c>.</summary>
internal static class ChatTools
{
    // The seed provider's built-in search is spelled as a parameterless function called web_search; clients written
    // for Gemini's own OpenAI layer spell it googleSearch. A client function of such a name *with* parameters is the
    // client's own tool and stays a function.
    internal static readonly string[] BuiltInSearchNames = ["web_search", "googleSearch", "google_search"];

    /// <summary>Writes <c>tools</c> and says whether Google Search is among them, and whether functions are too.</summary>
    internal static (bool GoogleSearch, bool Functions) WriteTools(Utf8JsonWriter writer, JsonElement request, UpstreamModelProfile profile)
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
                var type = tool.ValueKind == JsonValueKind.Object ? ClientFields.OptionalString(tool, "type", param) : null;
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

        // One Tool object holds every function declaration and, when asked for, Google Search beside them: Google's
        // tool-combination documentation for Gemini 3 puts both in the same Tool (with
        // toolConfig.includeServerSideToolInvocations, written by WriteToolConfig).
        writer.WritePropertyName("tools"u8);
        writer.WriteStartArray();
        writer.WriteStartObject();
        if (declarations.Count > 0)
        {
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
        }

        if (search)
        {
            writer.WritePropertyName("googleSearch"u8);
            writer.WriteStartObject();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndArray();
        return (search, declarations.Count > 0);
    }

    internal static bool HasProperties(JsonElement schema) =>
        // Gemini rejects an OBJECT schema with no properties; a parameterless function omits the schema.
        schema.ValueKind == JsonValueKind.Object
        && (!schema.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "object"
            || (schema.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object && props.EnumerateObject().Any()));

    internal static void ValidateFunctionName(string name, string param)
    {
        var valid = name.Length is > 0 and <= 64 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-');
        if (!valid)
        {
            throw new TranslationException(param, $"Function name '{name}' is not accepted by Gemini: it must start with a letter or underscore and use at most 64 of A-Z a-z 0-9 _ . : -.");
        }
    }

    internal static void WriteToolConfig(Utf8JsonWriter writer, JsonElement request, bool searchWithFunctions)
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
}
