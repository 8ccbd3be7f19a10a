using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>A Chat tool call as read: each field it carries (a streamed fragment carries some), with Google's thought signature.</summary>
internal readonly record struct ChatToolCall(int? Index, string? Id, string? Name, string? Arguments, string? Signature);

/// <summary>
/// Reads one Chat Completions tool call (whole, or a streamed fragment) for the bridges that answer other APIs from a
/// Chat answer; the counterpart of <see cref="ChatToolCallWriter"/>. A field of the wrong type is bad upstream data.
/// </summary>
internal static class ChatToolCallReader
{
    public static ChatToolCall Read(JsonElement call, string what)
    {
        UpstreamFields.RequireObject(call, what);
        var index = UpstreamFields.Int32(UpstreamFields.Field(call, "index"), what + ".index");
        var id = UpstreamFields.String(UpstreamFields.Field(call, "id"), what + ".id");
        string? name = null, arguments = null;
        if (UpstreamFields.Field(call, "function") is { ValueKind: JsonValueKind.Object } function)
        {
            name = UpstreamFields.String(UpstreamFields.Field(function, "name"), what + ".function.name");
            arguments = UpstreamFields.String(UpstreamFields.Field(function, "arguments"), what + ".function.arguments");
        }

        string? signature = null;
        if (UpstreamFields.Field(call, "extra_content") is { ValueKind: JsonValueKind.Object } extra
            && UpstreamFields.Field(extra, "google") is { ValueKind: JsonValueKind.Object } google)
        {
            signature = UpstreamFields.StringOrNone(UpstreamFields.Field(google, "thought_signature"));
        }

        return new ChatToolCall(index, id, name, arguments, signature);
    }
}
