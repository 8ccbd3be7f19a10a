using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace MixProxy.Simulator;

// The Anthropic Messages API upstream: POST /v1/messages (whole, or streamed with Anthropic's named events),
// POST /v1/messages/count_tokens and Anthropic's model list. It behaves as the other upstreams do (key, scripted
// replies, injected errors, echo answer, calling the first tool offered) and checks what Anthropic checks that a
// gateway could get wrong: the key (x-api-key or Bearer) and anthropic-version headers, roles, every tool_use answered by a
// tool_result in the next message, and with thinking on, the thinking blocks of a tool loop sent back first and
// unaltered (their signature covers their text). See https://docs.claude.com/en/api/messages.
public static partial class SimulatorApp
{
    private const string AnthropicMessagesPath = "/v1/messages";
    private const string ContentBlockDelta = "content_block_delta";
    private const string InvalidRequest = "invalid_request_error";

    // Bound into every thinking signature the simulator issues, so a signature is only valid for the thinking it came with.
    private const string ThinkingSignatureContext = "mixproxy-simulator-thinking:";

    /// <summary>Anthropic's smallest thinking budget.</summary>
    private const int MinimumThinkingBudget = 1024;

    // The request's fields that must be objects when present.
    private static readonly string[] ObjectFields = ["thinking", "tool_choice", "output_config", "metadata"];

    private static void MapAnthropicMessages(WebApplication app)
    {
        app.MapPost(AnthropicMessagesPath, (HttpContext c, SimulatorOptions o, SimulatorState s) => RecordingAbortsAsync(c, s, () => HandleAnthropicMessagesAsync(c, o, s)));
        app.MapPost(AnthropicMessagesPath + "/count_tokens", (HttpContext c, SimulatorOptions o, SimulatorState s) => CountAnthropicTokensAsync(c, o, s));

        // The literal path wins over Google's /{version}/models: a request with Anthropic's key or version header gets Anthropic's list.
        app.MapGet("/v1/models", (HttpContext c, SimulatorOptions o, SimulatorState s) => c.Request.Headers.ContainsKey("x-api-key") || c.Request.Headers.ContainsKey("anthropic-version")
            ? ListAnthropicModelsAsync(c, o, s)
            : ListModelsAsync(c, o, s));
    }

    private static async Task HandleAnthropicMessagesAsync(HttpContext context, SimulatorOptions options, SimulatorState state)
    {
        var body = await RecordAsync(context, state).ConfigureAwait(false);
        if (await AnthropicRefusedAsync(context, options, state).ConfigureAwait(false) || await ParsedAnthropicRequestAsync(context, body, requireMaxTokens: true).ConfigureAwait(false) is not { } request)
        {
            return;
        }

        var model = StringOf(request["model"])!;
        var maxTokens = request["max_tokens"]!.GetValue<int>();
        var messages = request["messages"]!.AsArray();
        var thinking = ThinkingRequested(request);
        if (AnthropicRequestProblem(request, messages, maxTokens, thinking) is { } problem)
        {
            await WriteAnthropicErrorAsync(context, 400, InvalidRequest, problem).ConfigureAwait(false);
            return;
        }

        // The simulated model: it thinks (when asked to), then calls the first tool offered when the user spoke last in
        // text, else echoes what it was given (a tool's result, or the user's words), cut at max_tokens or a stop sequence.
        var lastUser = messages.LastOrDefault(m => StringOf(m?["role"]) == "user");
        var toolResult = lastUser is not null && Blocks(lastUser["content"]).Any(b => StringOf(b?["type"]) == "tool_result");
        var prompt = toolResult ? "tool result " + ToolResultText(lastUser!) : BlockText(lastUser?["content"]);
        var toolName = toolResult ? null : ToolToCall(request);
        var content = new JsonArray();
        var thinkingTokens = 0;
        if (thinking)
        {
            var thoughts = StringOf(request["thinking"]?["display"]) == "omitted" ? string.Empty : "The user wrote: " + (prompt.Length > 200 ? prompt[..200] : prompt) + ". I will answer in one sentence.";
            thinkingTokens = Math.Max(1, thoughts.Split(' ').Length);
            content.Add(new JsonObject { ["type"] = "thinking", ["thinking"] = thoughts, ["signature"] = ThinkingSignature(thoughts) });
        }

        string stopReason;
        string? stopSequence = null;
        string[] words = [];
        var outputTokens = thinkingTokens;
        if (toolName is not null)
        {
            // Called by the model itself ("direct"), not from code it runs (programmatic tool calling).
            content.Add(new JsonObject
            {
                ["type"] = "tool_use",
                ["id"] = "toolu_sim" + RandomNumberGenerator.GetHexString(20, lowercase: true),
                ["name"] = toolName,
                ["input"] = JsonNode.Parse(ToolCallArguments),
                ["caller"] = new JsonObject { ["type"] = "direct" },
            });
            stopReason = "tool_use";
            outputTokens += 7;
        }
        else
        {
            words = AnthropicStructuredOutput(request) is { } json ? JsonPieces(json) : Reply(prompt);
            (words, stopReason, stopSequence) = CutAtStop(words, request["stop_sequences"] as JsonArray, Math.Max(1, maxTokens - thinkingTokens));
            content.Add(new JsonObject { ["type"] = "text", ["text"] = string.Concat(words) });
            outputTokens += words.Length;
        }

        var usage = AnthropicUsage(request, model, Math.Max(1, Encoding.UTF8.GetByteCount(body) / 4), outputTokens, state);
        var message = new JsonObject
        {
            ["id"] = "msg_sim" + RandomNumberGenerator.GetHexString(20, lowercase: true),
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = model,
            ["content"] = content,
            ["stop_reason"] = stopReason,
            ["stop_sequence"] = stopSequence,
            ["usage"] = usage,
        };
        await Task.Delay(Setting(context, "x-simulator-latency-ms", options.FirstByteDelay), context.RequestAborted).ConfigureAwait(false);

        if (request["stream"] is JsonValue stream && stream.TryGetValue<bool>(out var streamed) && streamed)
        {
            await StreamAnthropicMessageAsync(context, options, message, words).ConfigureAwait(false);
        }
        else
        {
            await WriteJsonAsync(context, 200, message.ToJsonString()).ConfigureAwait(false);
        }
    }

    /// <summary>Counts a request's input as the messages endpoint would (it needs no <c>max_tokens</c>).</summary>
    private static async Task CountAnthropicTokensAsync(HttpContext context, SimulatorOptions options, SimulatorState state)
    {
        var body = await RecordAsync(context, state).ConfigureAwait(false);
        if (await AnthropicRefusedAsync(context, options, state).ConfigureAwait(false) || await ParsedAnthropicRequestAsync(context, body, requireMaxTokens: false).ConfigureAwait(false) is null)
        {
            return;
        }

        // Settable latency here too, as on every other endpoint: a test of a silent upstream must not depend on which
        // endpoint it happens to call first.
        await Task.Delay(Setting(context, "x-simulator-latency-ms", options.FirstByteDelay), context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, 200, new JsonObject { ["input_tokens"] = Math.Max(1, Encoding.UTF8.GetByteCount(body) / 4) }.ToJsonString()).ConfigureAwait(false);
    }

    /// <summary>Anthropic's model list (a health probe's request: it costs no tokens), behind the same key check.</summary>
    private static async Task ListAnthropicModelsAsync(HttpContext context, SimulatorOptions options, SimulatorState state)
    {
        await RecordAsync(context, state).ConfigureAwait(false);
        StampAnthropicRequestId(context);
        if (await AnthropicKeyRefusedAsync(context, options).ConfigureAwait(false))
        {
            return;
        }

        static JsonObject Model(string id, string name) => new() { ["type"] = "model", ["id"] = id, ["display_name"] = name, ["created_at"] = "2026-01-01T00:00:00Z" };
        var list = new JsonObject
        {
            ["data"] = new JsonArray(Model("claude-sonnet-5-5", "Claude Sonnet 5.5"), Model("claude-haiku-5-5", "Claude Haiku 5.5")),
            ["has_more"] = false,
            ["first_id"] = "claude-sonnet-5-5",
            ["last_id"] = "claude-haiku-5-5",
        };
        await WriteJsonAsync(context, 200, list.ToJsonString()).ConfigureAwait(false);
    }

    /// <summary>
    /// Answers the request before its body is read, as the other upstreams do, in the same order: a wrong key (401),
    /// the next scripted reply, an injected error (Anthropic's shape, a 429 with <c>retry-after</c>); then the missing
    /// <c>anthropic-version</c> header Anthropic refuses. False when the request goes on.
    /// </summary>
    private static async Task<bool> AnthropicRefusedAsync(HttpContext context, SimulatorOptions options, SimulatorState state)
    {
        StampAnthropicRequestId(context);
        if (await AnthropicKeyRefusedAsync(context, options).ConfigureAwait(false) || await TryScriptedAsync(context, state, namedEvents: true).ConfigureAwait(false))
        {
            return true;
        }

        if (InjectedErrorStatus(context, options) is { } status)
        {
            if (status == 429)
            {
                context.Response.Headers["retry-after"] = "7";
            }

            var message = status switch
            {
                429 => "Number of request tokens has exceeded your per-minute rate limit; see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.",
                529 => "Overloaded",
                _ => $"Simulated upstream error {status}.",
            };
            await WriteAnthropicErrorAsync(context, status, AnthropicErrorType(status), message).ConfigureAwait(false);
            return true;
        }

        if (StringValues.IsNullOrEmpty(context.Request.Headers["anthropic-version"]))
        {
            await WriteAnthropicErrorAsync(context, 400, InvalidRequest, "anthropic-version: header is required").ConfigureAwait(false);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Anthropic takes an API key in <c>x-api-key</c> (older clients, Claude Code) or as a Bearer token (the official
    /// SDKs since API version 2026-10-21); a missing or wrong one is a 401.
    /// </summary>
    private static async Task<bool> AnthropicKeyRefusedAsync(HttpContext context, SimulatorOptions options)
    {
        var apiKey = context.Request.Headers["x-api-key"].ToString();
        var bearer = context.Request.Headers.Authorization.ToString();
        if (options.RequiredKey is null || apiKey == options.RequiredKey || bearer == "Bearer " + options.RequiredKey)
        {
            return false;
        }

        var message = apiKey.Length == 0 && bearer.Length == 0 ? "x-api-key or Authorization header is required" : "invalid x-api-key";
        await WriteAnthropicErrorAsync(context, 401, "authentication_error", message).ConfigureAwait(false);
        return true;
    }

    /// <summary>The status <c>x-simulator-error</c> forces, or the configured error rate draws; null for none.</summary>
    private static int? InjectedErrorStatus(HttpContext context, SimulatorOptions options)
    {
        var forced = context.Request.Headers["x-simulator-error"];
        if (!StringValues.IsNullOrEmpty(forced) && int.TryParse(forced, NumberStyles.Integer, CultureInfo.InvariantCulture, out var status))
        {
            return status;
        }

        return options.ErrorRate > 0 && Random.Shared.NextDouble() < options.ErrorRate ? options.InjectedErrorStatus : null;
    }

    /// <summary>The request as a JSON object in the shape both endpoints need; null once it has been refused with Anthropic's 400.</summary>
    private static async Task<JsonObject?> ParsedAnthropicRequestAsync(HttpContext context, string body, bool requireMaxTokens)
    {
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            parsed = null;
        }

        var problem = parsed is JsonObject request
            ? AnthropicShapeProblem(request, requireMaxTokens)
            : "There was an error parsing the body of your request. Please make sure it is a valid JSON object.";
        if (problem is not null)
        {
            await WriteAnthropicErrorAsync(context, 400, InvalidRequest, problem).ConfigureAwait(false);
            return null;
        }

        return parsed!.AsObject();
    }

    /// <summary>A field missing or of the wrong shape, in Anthropic's words; null when the request has the shape the simulator reads.</summary>
    private static string? AnthropicShapeProblem(JsonObject request, bool requireMaxTokens)
    {
        if (StringOf(request["model"]) is null)
        {
            return "model: Field required";
        }

        if (requireMaxTokens && !(request["max_tokens"] is JsonValue max && max.TryGetValue<int>(out var tokens) && tokens >= 1))
        {
            return request["max_tokens"] is null ? "max_tokens: Field required" : "max_tokens: Input should be an integer greater than or equal to 1";
        }

        if (request["messages"] is not JsonArray messages)
        {
            return "messages: Field required";
        }

        if (messages.Count == 0)
        {
            return "messages: List should have at least 1 item after validation, not 0";
        }

        for (var i = 0; i < messages.Count; i++)
        {
            // A system message among the others is Anthropic's too (instructions where they apply), not only the top-level system.
            if (messages[i] is not JsonObject message || StringOf(message["role"]) is not ("user" or "assistant" or "system"))
            {
                return $"messages.{i}.role: Input should be 'user', 'assistant' or 'system'";
            }

            if (!(StringOf(message["content"]) is not null || message["content"] is JsonArray blocks && blocks.All(b => b is JsonObject)))
            {
                return $"messages.{i}.content: Input should be a valid string or a list of content blocks";
            }
        }

        if (request["system"] is { } system && StringOf(system) is null && !(system is JsonArray systemBlocks && systemBlocks.All(b => b is JsonObject)))
        {
            return "system: Input should be a valid string or a list of text blocks";
        }

        if (request["tools"] is { } tools && !(tools is JsonArray list && list.All(t => t is JsonObject)))
        {
            return "tools: Input should be a valid list of tools";
        }

        return ObjectFields.FirstOrDefault(name => request[name] is { } value && value is not JsonObject) is { } wrong
            ? $"{wrong}: Input should be an object"
            : null;
    }

    /// <summary>What Anthropic refuses in a well-formed request, in its words; null when the request is good.</summary>
    private static string? AnthropicRequestProblem(JsonObject request, JsonArray messages, int maxTokens, bool thinking)
    {
        if (StringOf(request["thinking"]?["type"]) == "enabled")
        {
            var budget = request["thinking"]?["budget_tokens"] is JsonValue b && b.TryGetValue<int>(out var n) ? n : 0;
            if (budget < MinimumThinkingBudget)
            {
                return $"thinking.enabled.budget_tokens: Input should be greater than or equal to {MinimumThinkingBudget}";
            }

            if (budget >= maxTokens)
            {
                return "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size";
            }
        }

        if (thinking && request["temperature"] is JsonValue t && t.TryGetValue<double>(out var temperature) && temperature != 1)
        {
            return "`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility";
        }

        if (thinking && StringOf(request["tool_choice"]?["type"]) is "any" or "tool")
        {
            return "Thinking may not be enabled when tool_choice forces tool use.";
        }

        return ToolPairingProblem(messages) ?? ThinkingProblem(messages, thinking);
    }

    /// <summary>
    /// Every tool_use must be answered by a tool_result in the very next message, and every tool_result must answer a
    /// tool_use of the message before it: a translator that loses or renames an id is caught here, as Anthropic catches it.
    /// </summary>
    private static string? ToolPairingProblem(JsonArray messages)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var calls = IdsOf(messages[i]!, "tool_use", "id");
            var answered = i + 1 < messages.Count ? IdsOf(messages[i + 1]!, "tool_result", "tool_use_id") : [];
            if (calls.Except(answered).ToList() is { Count: > 0 } unanswered)
            {
                return $"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks immediately after: {string.Join(", ", unanswered)}. "
                    + "Each `tool_use` block must have a corresponding `tool_result` block in the next message.";
            }

            var results = IdsOf(messages[i]!, "tool_result", "tool_use_id");
            var asked = i > 0 ? IdsOf(messages[i - 1]!, "tool_use", "id") : [];
            if (results.Except(asked).ToList() is { Count: > 0 } unexpected)
            {
                var block = Blocks(messages[i]!["content"]).ToList().FindIndex(b => StringOf(b?["type"]) == "tool_result" && unexpected.Contains(StringOf(b?["tool_use_id"])!));
                return $"messages.{i}.content.{block}: unexpected `tool_use_id` found in `tool_result` blocks: {string.Join(", ", unexpected)}. "
                    + "Each `tool_result` block must have a corresponding `tool_use` block in the previous message.";
            }
        }

        return null;
    }

    /// <summary>
    /// Thinking blocks must come back as they were issued (their signature covers their text), and with thinking on,
    /// the assistant message of a tool loop in progress (the last one, answered by the tool results last sent) must
    /// begin with its thinking.
    /// </summary>
    private static string? ThinkingProblem(JsonArray messages, bool thinking)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var blocks = Blocks(messages[i]!["content"]).ToList();
            for (var j = 0; j < blocks.Count; j++)
            {
                if (StringOf(blocks[j]?["type"]) == "thinking" && StringOf(blocks[j]?["signature"]) != ThinkingSignature(StringOf(blocks[j]?["thinking"]) ?? string.Empty))
                {
                    return $"messages.{i}.content.{j}: Invalid `signature` in `thinking` block";
                }
            }
        }

        if (!thinking || messages.Count < 2 || IdsOf(messages[^1]!, "tool_result", "tool_use_id").Count == 0 || StringOf(messages[^2]?["role"]) != "assistant")
        {
            return null;
        }

        var first = Blocks(messages[^2]!["content"]).FirstOrDefault();
        return StringOf(first?["type"]) is "thinking" or "redacted_thinking"
            ? null
            : $"messages.{messages.Count - 2}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{StringOf(first?["type"])}`. When `thinking` is enabled, "
                + "a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). "
                + "We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. "
                + "Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking";
    }

    /// <summary>Thinking on: <c>enabled</c> (with a budget) or <c>adaptive</c>.</summary>
    private static bool ThinkingRequested(JsonObject request) => StringOf(request["thinking"]?["type"]) is "enabled" or "adaptive";

    /// <summary>The signature of a thinking block: a digest of its text, so an altered or foreign block does not pass.</summary>
    private static string ThinkingSignature(string thinking) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(ThinkingSignatureContext + thinking)));

    /// <summary>
    /// The tool the simulated model calls, unless <c>tool_choice</c> is <c>none</c>: the one <c>tool_choice</c> names,
    /// else the first client tool (one with an <c>input_schema</c>; Anthropic's server tools have none).
    /// </summary>
    private static string? ToolToCall(JsonObject request)
    {
        var choice = request["tool_choice"];
        if (StringOf(choice?["type"]) == "none" || request["tools"] is not JsonArray tools)
        {
            return null;
        }

        return StringOf(choice?["type"]) == "tool" && StringOf(choice?["name"]) is { } named
            ? named
            : tools.Where(t => t?["input_schema"] is JsonObject).Select(t => StringOf(t?["name"])).FirstOrDefault(n => n is not null);
    }

    /// <summary>
    /// The answer cut where Anthropic would stop: before the earliest stop sequence it contains, or after
    /// <paramref name="limit"/> tokens (a word is a token here); else the whole answer, ending the turn.
    /// </summary>
    private static (string[] Words, string StopReason, string? StopSequence) CutAtStop(string[] words, JsonArray? stopSequences, int limit)
    {
        var text = string.Concat(words);
        var stop = stopSequences?.Select(StringOf).Where(s => !string.IsNullOrEmpty(s))
            .Select(s => (Sequence: s!, At: text.IndexOf(s!, StringComparison.Ordinal)))
            .Where(s => s.At >= 0).OrderBy(s => s.At).FirstOrDefault();
        if (stop is { Sequence: not null } found)
        {
            var kept = text[..found.At];
            var pieces = kept.Split(' ');
            return (kept.Length == 0 ? [] : pieces.Select((w, i) => i < pieces.Length - 1 ? w + " " : w).ToArray(), "stop_sequence", found.Sequence);
        }

        return words.Length > limit ? (words[..limit], "max_tokens", null) : (words, "end_turn", null);
    }

    /// <summary>An instance of <c>output_config.format</c>'s JSON schema, for a request that asks for structured output; else null.</summary>
    private static string? AnthropicStructuredOutput(JsonObject request) =>
        request["output_config"]?["format"] is JsonObject format && StringOf(format["type"]) == "json_schema"
            ? SchemaInstance.For(format["schema"])?.ToJsonString() ?? "null"
            : null;

    /// <summary>
    /// Anthropic's usage. The prompt up to the last block marked <c>cache_control</c> (tools, then system, then
    /// messages) is written to the cache the first time this model sees it and read from it after: the cached part
    /// is counted in the cache fields, not in <c>input_tokens</c>. Anthropic caches only prompts above a minimum
    /// length; the simulator caches any, so a test need not send thousands of tokens.
    /// </summary>
    private static JsonObject AnthropicUsage(JsonObject request, string model, int promptTokens, int outputTokens, SimulatorState state)
    {
        var (prefix, oneHour) = CachedPrefix(request);
        int written = 0, read = 0;
        if (prefix is not null)
        {
            var tokens = Math.Min(promptTokens, Math.Max(1, Encoding.UTF8.GetByteCount(prefix) / 4));
            var digest = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(model + "\n" + prefix)));
            if (state.RememberCachedPrompt(digest))
            {
                written = tokens;
            }
            else
            {
                read = tokens;
            }
        }

        return new JsonObject
        {
            ["input_tokens"] = promptTokens - written - read,
            ["cache_creation_input_tokens"] = written,
            ["cache_read_input_tokens"] = read,
            ["cache_creation"] = new JsonObject { ["ephemeral_5m_input_tokens"] = oneHour ? 0 : written, ["ephemeral_1h_input_tokens"] = oneHour ? written : 0 },
            ["output_tokens"] = outputTokens,
            ["service_tier"] = "standard",
        };
    }

    /// <summary>The prompt up to and including its last <c>cache_control</c> block, as JSON; null when nothing is marked.</summary>
    private static (string? Prefix, bool OneHour) CachedPrefix(JsonObject request)
    {
        var seen = new JsonArray();
        string? prefix = null;
        var oneHour = false;
        var system = request["system"] is JsonArray systemBlocks ? systemBlocks : new JsonArray();
        var parts = (request["tools"] as JsonArray ?? []).Concat(system)
            .Concat((request["messages"] as JsonArray ?? []).SelectMany(m => Blocks(m?["content"])));
        foreach (var part in parts)
        {
            seen.Add(part?.DeepClone());
            if (part?["cache_control"] is JsonObject control)
            {
                prefix = seen.ToJsonString();
                oneHour = StringOf(control["ttl"]) == "1h";
            }
        }

        return (prefix, oneHour);
    }

    /// <summary>
    /// The stream Anthropic sends for a message: message_start (usage so far), each content block started, filled by
    /// its deltas (a ping after the first start) and stopped, then message_delta with the stop reason and the final
    /// usage, and message_stop.
    /// </summary>
    private static async Task StreamAnthropicMessageAsync(HttpContext context, SimulatorOptions options, JsonObject message, string[] words)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        var interval = Setting(context, "x-simulator-chunk-interval-ms", options.ChunkInterval);
        Task Send(JsonObject e) => WriteNamedEventAsync(context, StringOf(e["type"])!, e.ToJsonString());
        JsonObject Delta(int index, JsonObject delta) => new() { ["type"] = ContentBlockDelta, ["index"] = index, ["delta"] = delta };

        var usage = message["usage"]!.AsObject();
        var started = message.DeepClone().AsObject();
        started["content"] = new JsonArray();
        started["stop_reason"] = null;
        started["stop_sequence"] = null;
        started["usage"]!["output_tokens"] = 1;
        await Send(new JsonObject { ["type"] = "message_start", ["message"] = started }).ConfigureAwait(false);

        var blocks = message["content"]!.AsArray();
        for (var index = 0; index < blocks.Count; index++)
        {
            var block = blocks[index]!.AsObject();
            var type = StringOf(block["type"]);
            var empty = type switch
            {
                "thinking" => new JsonObject { ["type"] = "thinking", ["thinking"] = string.Empty, ["signature"] = string.Empty },
                "tool_use" => new JsonObject { ["type"] = "tool_use", ["id"] = block["id"]!.DeepClone(), ["name"] = block["name"]!.DeepClone(), ["input"] = new JsonObject(), ["caller"] = block["caller"]!.DeepClone() },
                _ => new JsonObject { ["type"] = "text", ["text"] = string.Empty },
            };
            await Send(new JsonObject { ["type"] = "content_block_start", ["index"] = index, ["content_block"] = empty }).ConfigureAwait(false);
            if (index == 0)
            {
                await Send(new JsonObject { ["type"] = "ping" }).ConfigureAwait(false);
            }

            switch (type)
            {
                case "thinking":
                    // The thinking in two pieces, then its signature, as Anthropic sends it just before the block stops.
                    var thoughts = StringOf(block["thinking"])!;
                    foreach (var piece in new[] { thoughts[..(thoughts.Length / 2)], thoughts[(thoughts.Length / 2)..] }.Where(p => p.Length > 0))
                    {
                        await Send(Delta(index, new JsonObject { ["type"] = "thinking_delta", ["thinking"] = piece })).ConfigureAwait(false);
                    }

                    await Send(Delta(index, new JsonObject { ["type"] = "signature_delta", ["signature"] = block["signature"]!.DeepClone() })).ConfigureAwait(false);
                    break;
                case "tool_use":
                    // An empty fragment first, as Anthropic starts one, then the JSON in two pieces.
                    var input = block["input"]!.ToJsonString();
                    foreach (var piece in new[] { string.Empty, input[..(input.Length / 2)], input[(input.Length / 2)..] })
                    {
                        await Send(Delta(index, new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = piece })).ConfigureAwait(false);
                    }

                    break;
                default:
                    // A stop sequence at the very start leaves no text: the block starts and stops empty.
                    var chunks = words.Length == 0 ? [] : Split(words, Setting(context, "x-simulator-chunks", options.StreamChunks));
                    for (var i = 0; i < chunks.Count; i++)
                    {
                        if (i > 0)
                        {
                            await Task.Delay(interval, context.RequestAborted).ConfigureAwait(false);
                        }

                        await Send(Delta(index, new JsonObject { ["type"] = "text_delta", ["text"] = string.Concat(chunks[i]) })).ConfigureAwait(false);
                    }

                    break;
            }

            await Send(new JsonObject { ["type"] = "content_block_stop", ["index"] = index }).ConfigureAwait(false);
        }

        await Send(new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = message["stop_reason"]!.DeepClone(), ["stop_sequence"] = message["stop_sequence"]?.DeepClone() },
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = usage["input_tokens"]!.DeepClone(),
                ["cache_creation_input_tokens"] = usage["cache_creation_input_tokens"]!.DeepClone(),
                ["cache_read_input_tokens"] = usage["cache_read_input_tokens"]!.DeepClone(),
                ["output_tokens"] = usage["output_tokens"]!.DeepClone(),
            },
        }).ConfigureAwait(false);
        await Send(new JsonObject { ["type"] = "message_stop" }).ConfigureAwait(false);
    }

    /// <summary>A message's content as blocks: a string is one text block.</summary>
    private static IEnumerable<JsonObject> Blocks(JsonNode? content) =>
        content is JsonArray blocks ? blocks.OfType<JsonObject>() : StringOf(content) is { } text ? [new JsonObject { ["type"] = "text", ["text"] = text }] : [];

    /// <summary>The text of a message's content (a string, or its text blocks).</summary>
    private static string BlockText(JsonNode? content) =>
        string.Concat(Blocks(content).Where(b => StringOf(b?["type"]) == "text").Select(b => StringOf(b?["text"])));

    /// <summary>What the tool results of a user message say: their content, a string or text blocks.</summary>
    private static string ToolResultText(JsonNode message) =>
        string.Concat(Blocks(message["content"]).Where(b => StringOf(b?["type"]) == "tool_result").Select(b => BlockText(b?["content"])));

    private static List<string> IdsOf(JsonNode message, string blockType, string idField) =>
        Blocks(message["content"]).Where(b => StringOf(b?["type"]) == blockType).Select(b => StringOf(b?[idField]) ?? string.Empty).ToList();

    /// <summary>Every Anthropic response carries a <c>request-id</c> header (and an error body its <c>request_id</c>).</summary>
    private static void StampAnthropicRequestId(HttpContext context) =>
        context.Response.Headers["request-id"] = "req_sim" + RandomNumberGenerator.GetHexString(20, lowercase: true);

    private static string AnthropicErrorType(int status) => status switch
    {
        400 => InvalidRequest,
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        _ => "api_error",
    };

    private static Task WriteAnthropicErrorAsync(HttpContext context, int status, string type, string message) =>
        WriteJsonAsync(context, status, new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
            ["request_id"] = context.Response.Headers["request-id"].ToString(),
        }.ToJsonString(GoogleJson));
}
