using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace MixProxy.Simulator;

// Gemini 3's function calling as Google serves it: the model signs every step that calls a function (thoughtSignature
// on the functionCall part) and refuses a request that replays a step of the current turn without its signature.
// See https://ai.google.dev/gemini-api/docs/thought-signatures.
public static partial class SimulatorApp
{
    /// <summary>Gemini 3 models issue thought signatures with their function calls and check they come back.</summary>
    private static bool SignsFunctionCalls(string model) => model.StartsWith("gemini-3", StringComparison.Ordinal);

    /// <summary>
    /// Google's error for the first step of the current turn whose signature did not come back; null when none is missing.
    /// What is enforced is the documented rule and no more: the current turn is everything after the last user
    /// content with text (the function calls and results since the user last spoke; earlier turns are not checked),
    /// and in it every model content with function calls must carry a non-empty signature on its FIRST functionCall
    /// part (parallel calls after the first need none). The value is not verified: Google's bypass value passes, as
    /// it does at Google.
    /// </summary>
    private static string? MissingThoughtSignature(JsonArray contents)
    {
        var turnStart = 0;
        for (var i = contents.Count - 1; i >= 0; i--)
        {
            if (IsUserText(contents[i]))
            {
                turnStart = i + 1;
                break;
            }
        }

        for (var i = turnStart; i < contents.Count; i++)
        {
            if (StringOf(contents[i]?["role"]) != "model" || contents[i]?["parts"] is not JsonArray parts
                || parts.FirstOrDefault(p => FunctionCallOf(p) is not null) is not { } first)
            {
                continue;
            }

            if ((StringOf(first["thoughtSignature"]) ?? StringOf(first["thought_signature"])) is not { Length: > 0 })
            {
                // Google names the function as its tool namespace spells it, and the content by its place counted from 1.
                return "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, "
                    + "and missing thought_signature may lead to degraded model performance. Additional data, function call "
                    + $"`default_api:{StringOf(FunctionCallOf(first)!["name"])}` , position {i + 1}. "
                    + "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.";
            }
        }

        return null;
    }

    /// <summary>
    /// The function the simulated model calls: the first one declared, when the user spoke last (a text turn, not
    /// a function's result, so a tool loop ends with an answer instead of calling again).
    /// </summary>
    private static string? FunctionToCall(JsonNode request, JsonArray contents) =>
        IsUserText(contents[^1]) && (request["tools"] as JsonArray)?.SelectMany(t => (t?["functionDeclarations"] ?? t?["function_declarations"]) as JsonArray ?? new JsonArray()) is { } declarations
            ? declarations.Select(d => StringOf(d?["name"])).FirstOrDefault(n => n is not null)
            : null;

    /// <summary>
    /// A function call as Gemini 3 makes one: a functionCall part with an id and the signature of this step, a new
    /// one for every call; streamed, the call comes whole in one event and the finish in the next.
    /// </summary>
    private static async Task ReplyWithFunctionCallAsync(HttpContext context, SimulatorOptions options, SimulatorState state, string model, string name, int promptTokens, bool stream)
    {
        var signature = Convert.ToBase64String(Encoding.UTF8.GetBytes("mixproxy-simulator-signature:" + RandomNumberGenerator.GetHexString(16, lowercase: true)));
        state.RecordIssuedSignature(signature);
        var part = new JsonObject
        {
            ["functionCall"] = new JsonObject
            {
                ["id"] = "call_sim" + RandomNumberGenerator.GetHexString(8, lowercase: true),
                ["name"] = name,
                ["args"] = JsonNode.Parse(ToolCallArguments),
            },
            ["thoughtSignature"] = signature,
        };
        const int callTokens = 7;
        if (!stream)
        {
            await WriteJsonAsync(context, 200, GeminiResponse(model, new JsonArray(part), promptTokens, callTokens, finished: true).ToJsonString()).ConfigureAwait(false);
            return;
        }

        await WriteGeminiStreamAsync(
            context,
            [GeminiResponse(model, new JsonArray(part), promptTokens, callTokens, finished: false), GeminiResponse(model, parts: null, promptTokens, callTokens, finished: true)],
            Setting(context, "x-simulator-chunk-interval-ms", options.ChunkInterval)).ConfigureAwait(false);
    }

    /// <summary>
    /// The JSON the simulated model answers when the request asks for structured output (<c>responseMimeType</c>
    /// <c>application/json</c>): an instance of its schema, <c>{}</c> without one; null for a plain text answer.
    /// </summary>
    private static string? GeminiStructuredOutput(JsonNode request)
    {
        var config = request["generationConfig"];
        if (StringOf(config?["responseMimeType"]) != "application/json")
        {
            return null;
        }

        var schema = config?["responseJsonSchema"] ?? config?["responseSchema"];
        return schema is null ? "{}" : SchemaInstance.For(schema)?.ToJsonString() ?? "null";
    }

    /// <summary>What the simulated model echoes: the last text, or the output of the function result it was handed.</summary>
    private static string GeminiPrompt(JsonArray contents)
    {
        var result = (contents[^1]?["parts"] as JsonArray)?.Select(p => p?["functionResponse"] ?? p?["function_response"]).LastOrDefault(r => r is JsonObject);
        if (result is null)
        {
            return LastText(contents);
        }

        // The gateway hands a tool's output over as {"output": ...}; any other shape is echoed as JSON.
        var response = result["response"];
        return "tool result " + (response is JsonObject { Count: 1 } only && StringOf(only.First().Value) is { } text ? text : response?.ToJsonString());
    }

    /// <summary>A user content with text: where a turn begins (a function's result is a user content too, but it continues the turn).</summary>
    private static bool IsUserText(JsonNode? content) =>
        StringOf(content?["role"]) is null or "user"
        && content?["parts"] is JsonArray parts
        && parts.Any(p => p?["text"] is not null)
        && !parts.Any(p => p?["functionResponse"] is not null || p?["function_response"] is not null);

    private static JsonObject? FunctionCallOf(JsonNode? part) => (part?["functionCall"] ?? part?["function_call"]) as JsonObject;
}
