using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;

namespace MixProxy.Tests.HostileInput;

/// <summary>
/// The battery's upstream table: a row per protocol an upstream may speak (<see cref="ProtocolRegistry.UpstreamProtocols"/>).
/// The battery gives every row a model, and every client endpoint meets every upstream protocol through it.
/// </summary>
internal static class UpstreamProtocolRows
{
    public static IReadOnlyList<UpstreamProtocolRow> All { get; } =
    [
        new("Gemini", "gemini-2.5-flash",
            texts => [.. texts.Select(text => new JsonObject { ["responseId"] = "r1", ["candidates"] = new JsonArray(new JsonObject { ["content"] = new JsonObject { ["role"] = "model", ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) } }) }.ToJsonString())],
            ["""{"responseId":"r1","candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5}}"""],
            """{"responseId":"r1","candidates":[{"content":{"role":"model","parts":[{"te""",
            message => new JsonObject { ["error"] = new JsonObject { ["code"] = 400, ["message"] = message, ["status"] = "INVALID_ARGUMENT" } }.ToJsonString()),
        new("OpenAI", "gpt-4o-mini",
            texts => [.. texts.Select(text => new JsonObject { ["id"] = "c1", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = "gpt-4o-mini", ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = text }, ["finish_reason"] = null }) }.ToJsonString())],
            ["""{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}""", "[DONE]"],
            """{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"cont""",
            message => OpenAIError(message)),
        new("OpenAIResponses", "gpt-4o-mini",
            texts => [
                """{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}""",
                .. texts.Select((text, i) => new JsonObject { ["type"] = "response.output_text.delta", ["sequence_number"] = i + 1, ["item_id"] = "msg_1", ["output_index"] = 0, ["content_index"] = 0, ["delta"] = text }.ToJsonString()),
            ],
            ["""{"type":"response.completed","sequence_number":99,"response":{"id":"resp_1","object":"response","status":"completed","output":[],"usage":{"input_tokens":3,"output_tokens":2,"total_tokens":5}}}"""],
            """{"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","out""",
            message => OpenAIError(message)),
        new("Anthropic", "claude-haiku-5-5",
            texts => [
                """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-5-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}""",
                """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""",
                .. texts.Select(text => new JsonObject { ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text } }.ToJsonString()),
            ],
            [
                """{"type":"content_block_stop","index":0}""",
                """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}""",
                """{"type":"message_stop"}""",
            ],
            """{"type":"content_block_delta","index":0,"delta":{"type":"text_de""",
            message => new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = "invalid_request_error", ["message"] = message } }.ToJsonString()),
    ];

    /// <summary>The row of <paramref name="protocol"/>; fails, saying what to add, when the table has none.</summary>
    public static UpstreamProtocolRow For(WireProtocol protocol) =>
        All.SingleOrDefault(r => r.ProtocolName == protocol.Name)
        ?? throw new Xunit.Sdk.XunitException(
            $"The upstream protocol '{protocol.Name}' is registered in ProtocolRegistry.Default but has no row in tests/MixProxy.Tests/HostileInput/UpstreamProtocolRows.cs. " +
            $"Add to UpstreamProtocolRows.All: new(\"{protocol.Name}\", UpstreamModel: \"<a model the simulator serves in it>\", TextEvents: texts => <a stream event per text>, " +
            "Ending: <the events that end its stream>, CutEvent: \"<an event cut mid-JSON>\", ErrorBody: message => <its 400 error body saying message>).");

    private static string OpenAIError(string message) =>
        new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = null, ["code"] = null } }.ToJsonString();
}
