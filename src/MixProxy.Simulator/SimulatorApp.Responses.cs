using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace MixProxy.Simulator;

// The OpenAI Responses API upstream: POST /v1/responses (whole or streamed) and GET /v1/responses/{id}. It behaves as
// the chat upstream does (key, scripted replies, injected errors, echo answer, calling the first tool offered) and
// keeps what it answered, unless the request says store:false, so previous_response_id can chain to it.
public static partial class SimulatorApp
{
    private const string OutputIndex = "output_index";

    private static async Task HandleResponsesAsync(HttpContext context, SimulatorOptions options, SimulatorState state)
    {
        var body = await RecordAsync(context, state).ConfigureAwait(false);
        if (!Authorized(context, options, allowQueryKey: false))
        {
            await WriteJsonAsync(context, 401, OpenAIInvalidKey).ConfigureAwait(false);
            return;
        }

        if (await TryScriptedAsync(context, state, namedEvents: true).ConfigureAwait(false) || await TryInjectedErrorAsync(context, options, gemini: false).ConfigureAwait(false))
        {
            return;
        }

        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            await WriteJsonAsync(context, 400, OpenAIError("Invalid JSON: " + e.Message)).ConfigureAwait(false);
            return;
        }

        if (parsed is not JsonObject request || StringOf(request["model"]) is not { } model)
        {
            await WriteJsonAsync(context, 400, OpenAIError("Missing required parameter: 'model'.", "model", "missing_required_parameter")).ConfigureAwait(false);
            return;
        }

        if (InputItems(request["input"]) is not { Count: > 0 } input)
        {
            await WriteJsonAsync(context, 400, OpenAIError("'input' must be a string or a non-empty array of input items.", "input", "invalid_type")).ConfigureAwait(false);
            return;
        }

        var history = new JsonArray();
        if (StringOf(request["previous_response_id"]) is { } previousId)
        {
            if (!state.TryGetStored(previousId, out var previous))
            {
                await WriteJsonAsync(context, 400, OpenAIError($"Previous response with id '{previousId}' not found.", "previous_response_id", "previous_response_not_found")).ConfigureAwait(false);
                return;
            }

            history = JsonNode.Parse(previous.Conversation)!.AsArray();
        }

        // The earlier turns count as input, as they do upstream: a chained request is dearer than its body.
        var last = input[^1]!;
        var inputTokens = Math.Max(1, (Encoding.UTF8.GetByteCount(body) + (history.Count > 0 ? Encoding.UTF8.GetByteCount(history.ToJsonString()) : 0)) / 4);
        var words = request["text"]?["format"] is JsonObject format && StructuredOutput(format["type"], format["schema"]) is { } json
            ? JsonPieces(json)
            : Reply(StringOf(last["type"]) == "function_call_output" ? "tool result " + ItemText(last) : ItemText(last));

        // With function tools on offer and a user message last, the simulated model calls the first function.
        var toolName = IsUserMessage(last) && request["tools"] is JsonArray tools
            ? tools.Select(t => StringOf(t?["type"]) == "function" ? StringOf(t?["name"]) : null).FirstOrDefault(n => n is not null)
            : null;
        await Task.Delay(Setting(context, "x-simulator-latency-ms", options.FirstByteDelay), context.RequestAborted).ConfigureAwait(false);

        var id = "resp_sim" + RandomNumberGenerator.GetHexString(24, lowercase: true);
        var item = toolName is null
            ? MessageItem("msg_sim" + RandomNumberGenerator.GetHexString(24, lowercase: true), string.Concat(words), completed: true)
            : FunctionCallItem("fc_sim" + RandomNumberGenerator.GetHexString(24, lowercase: true), "call_sim" + RandomNumberGenerator.GetHexString(8, lowercase: true), toolName, ToolCallArguments, completed: true);
        var outputTokens = toolName is null ? words.Length : 7;
        var usage = new JsonObject
        {
            ["input_tokens"] = inputTokens,
            ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
            ["output_tokens"] = outputTokens,
            ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
            ["total_tokens"] = inputTokens + outputTokens,
        };
        var response = ResponseObject(request, id, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model, "completed", new JsonArray(item), usage);

        if (request["stream"] is JsonValue stream && stream.TryGetValue<bool>(out var streamed) && streamed)
        {
            await StreamResponseAsync(context, options, response, words).ConfigureAwait(false);
        }
        else
        {
            await WriteJsonAsync(context, 200, response.ToJsonString()).ConfigureAwait(false);
        }

        // Kept once it has gone out whole: an answer the caller broke off is not one it can chain to.
        if (!(request["store"] is JsonValue store && store.TryGetValue<bool>(out var kept) && !kept))
        {
            foreach (var turn in input)
            {
                history.Add(turn!.DeepClone());
            }

            history.Add(item.DeepClone());
            state.Store(id, new StoredResponse(response.ToJsonString(), history.ToJsonString()));
        }
    }

    /// <summary>
    /// The stream OpenAI sends for one output item: the response created and in progress, the item added, its text (or
    /// a function call's arguments) in deltas and then whole, the item done, the response completed with its usage.
    /// </summary>
    private static async Task StreamResponseAsync(HttpContext context, SimulatorOptions options, JsonObject response, string[] words)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        var interval = Setting(context, "x-simulator-chunk-interval-ms", options.ChunkInterval);
        var sequence = 0;
        Task Send(JsonObject e)
        {
            e["sequence_number"] = sequence++;
            return WriteNamedEventAsync(context, StringOf(e["type"])!, e.ToJsonString());
        }

        JsonObject Started()
        {
            var started = response.DeepClone().AsObject();
            started["status"] = "in_progress";
            started["output"] = new JsonArray();
            started["usage"] = null;
            return started;
        }

        var item = response["output"]![0]!.AsObject();
        var itemId = StringOf(item["id"]);
        await Send(new JsonObject { ["type"] = "response.created", ["response"] = Started() }).ConfigureAwait(false);
        await Send(new JsonObject { ["type"] = "response.in_progress", ["response"] = Started() }).ConfigureAwait(false);

        if (StringOf(item["type"]) == "function_call")
        {
            var name = StringOf(item["name"])!;
            var arguments = StringOf(item["arguments"])!;
            var added = FunctionCallItem(itemId!, StringOf(item["call_id"])!, name, string.Empty, completed: false);
            await Send(new JsonObject { ["type"] = "response.output_item.added", [OutputIndex] = 0, ["item"] = added }).ConfigureAwait(false);
            // The arguments in two pieces, as the chat stream sends them.
            var half = arguments.Length / 2;
            await Send(new JsonObject { ["type"] = "response.function_call_arguments.delta", ["item_id"] = itemId, [OutputIndex] = 0, ["delta"] = arguments[..half] }).ConfigureAwait(false);
            await Task.Delay(interval, context.RequestAborted).ConfigureAwait(false);
            await Send(new JsonObject { ["type"] = "response.function_call_arguments.delta", ["item_id"] = itemId, [OutputIndex] = 0, ["delta"] = arguments[half..] }).ConfigureAwait(false);

            await Send(new JsonObject { ["type"] = "response.function_call_arguments.done", ["item_id"] = itemId, [OutputIndex] = 0, ["name"] = name, ["arguments"] = arguments }).ConfigureAwait(false);
        }
        else
        {
            var text = string.Concat(words);
            await Send(new JsonObject { ["type"] = "response.output_item.added", [OutputIndex] = 0, ["item"] = MessageItem(itemId!, text, completed: false) }).ConfigureAwait(false);
            await Send(new JsonObject { ["type"] = "response.content_part.added", ["item_id"] = itemId, [OutputIndex] = 0, ["content_index"] = 0, ["part"] = OutputText(string.Empty) }).ConfigureAwait(false);
            var chunks = Split(words, Setting(context, "x-simulator-chunks", options.StreamChunks));
            for (var i = 0; i < chunks.Count; i++)
            {
                if (i > 0)
                {
                    await Task.Delay(interval, context.RequestAborted).ConfigureAwait(false);
                }

                await Send(new JsonObject { ["type"] = "response.output_text.delta", ["item_id"] = itemId, [OutputIndex] = 0, ["content_index"] = 0, ["delta"] = string.Concat(chunks[i]), ["logprobs"] = new JsonArray() }).ConfigureAwait(false);
            }

            await Send(new JsonObject { ["type"] = "response.output_text.done", ["item_id"] = itemId, [OutputIndex] = 0, ["content_index"] = 0, ["text"] = text, ["logprobs"] = new JsonArray() }).ConfigureAwait(false);
            await Send(new JsonObject { ["type"] = "response.content_part.done", ["item_id"] = itemId, [OutputIndex] = 0, ["content_index"] = 0, ["part"] = OutputText(text) }).ConfigureAwait(false);
        }

        await Send(new JsonObject { ["type"] = "response.output_item.done", [OutputIndex] = 0, ["item"] = item.DeepClone() }).ConfigureAwait(false);
        await Send(new JsonObject { ["type"] = "response.completed", ["response"] = response.DeepClone() }).ConfigureAwait(false);
    }

    /// <summary>A response kept earlier (<c>GET /v1/responses/{id}</c>), behind the same key check.</summary>
    private static async Task GetStoredResponseAsync(HttpContext context, string responseId, SimulatorOptions options, SimulatorState state)
    {
        await RecordAsync(context, state).ConfigureAwait(false);
        if (!Authorized(context, options, allowQueryKey: false))
        {
            await WriteJsonAsync(context, 401, OpenAIInvalidKey).ConfigureAwait(false);
            return;
        }

        await (state.TryGetStored(responseId, out var stored)
            ? WriteJsonAsync(context, 200, stored.Json)
            : WriteJsonAsync(context, 404, OpenAIError($"No response found with id '{responseId}'."))).ConfigureAwait(false);
    }

    /// <summary>The response object, with the request's settings echoed back and OpenAI's defaults where it set none.</summary>
    private static JsonObject ResponseObject(JsonObject request, string id, long createdAt, string model, string status, JsonArray output, JsonObject? usage)
    {
        JsonNode? Echo(string name) => request[name]?.DeepClone();
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = createdAt,
            ["status"] = status,
            ["background"] = false,
            ["error"] = null,
            ["incomplete_details"] = null,
            ["instructions"] = Echo("instructions"),
            ["max_output_tokens"] = Echo("max_output_tokens"),
            ["model"] = model,
            ["output"] = output,
            ["parallel_tool_calls"] = Echo("parallel_tool_calls") ?? true,
            ["previous_response_id"] = Echo("previous_response_id"),
            ["reasoning"] = Echo("reasoning") ?? new JsonObject { ["effort"] = null, ["summary"] = null },
            ["service_tier"] = "default",
            ["store"] = Echo("store") ?? true,
            ["temperature"] = Echo("temperature") ?? 1.0,
            ["text"] = Echo("text") ?? new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
            ["tool_choice"] = Echo("tool_choice") ?? "auto",
            ["tools"] = Echo("tools") ?? new JsonArray(),
            ["top_p"] = Echo("top_p") ?? 1.0,
            ["truncation"] = Echo("truncation") ?? "disabled",
            ["usage"] = usage,
            ["user"] = Echo("user"),
            ["metadata"] = Echo("metadata") ?? new JsonObject(),
        };
    }

    /// <summary>An assistant message; while it is being streamed it has no content yet.</summary>
    private static JsonObject MessageItem(string id, string text, bool completed) => new()
    {
        ["id"] = id,
        ["type"] = "message",
        ["status"] = completed ? "completed" : "in_progress",
        ["role"] = "assistant",
        ["content"] = completed ? new JsonArray(OutputText(text)) : new JsonArray(),
    };

    private static JsonObject FunctionCallItem(string id, string callId, string name, string arguments, bool completed) => new()
    {
        ["id"] = id,
        ["type"] = "function_call",
        ["status"] = completed ? "completed" : "in_progress",
        ["arguments"] = arguments,
        ["call_id"] = callId,
        ["name"] = name,
    };

    private static JsonObject OutputText(string text) => new()
    {
        ["type"] = "output_text",
        ["annotations"] = new JsonArray(),
        ["logprobs"] = new JsonArray(),
        ["text"] = text,
    };

    /// <summary>The request's input as items: a string is one user message; null when it is neither that nor a list of objects.</summary>
    private static JsonArray? InputItems(JsonNode? input)
    {
        if (StringOf(input) is { } text)
        {
            return new JsonArray(new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = text });
        }

        return input is JsonArray items && items.All(i => i is JsonObject) ? items.DeepClone().AsArray() : null;
    }

    /// <summary>A message (its <c>type</c> may be left out) from the user.</summary>
    private static bool IsUserMessage(JsonNode item) =>
        StringOf(item["type"]) is null or "message" && StringOf(item["role"]) == "user";

    /// <summary>The text an input item carries: a message's content (string or parts), a tool result's output.</summary>
    private static string ItemText(JsonNode item) => (item["content"] ?? item["output"]) switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray parts => string.Concat(parts.Select(p => StringOf(p?["text"]))),
        _ => string.Empty,
    };

    private static string? StringOf(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static async Task WriteNamedEventAsync(HttpContext context, string type, string data)
    {
        await context.Response.WriteAsync("event: " + type + "\ndata: " + data + "\n\n", context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
