using System.Text.Json;
using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>
/// An OpenAI-shaped error (a Chat upstream's own, or a Gemini error the Chat side restated) as Anthropic's: the
/// message kept, the type Anthropic gives the status, and an overloaded upstream (503) as Anthropic's 529, which its
/// clients retry and report as an overload.
/// </summary>
internal static class ChatToAnthropicErrorTranslator
{
    public static TranslatedError Translate(int status, ReadOnlySpan<byte> body, TimeSpan? retryAfter)
    {
        var message = MessageOf(body) ?? $"The upstream answered with status {status}.";
        var code = CodeOf(body);
        var type = code == "upstream_auth_failed" ? "api_error" : AnthropicErrors.TypeFor(status);
        var clientStatus = status == 503 ? AnthropicErrors.OverloadedStatus : status;
        return new TranslatedError(clientStatus, AnthropicErrors.Body(type, message), retryAfter);
    }

    private static string? MessageOf(ReadOnlySpan<byte> body) => ErrorField(body, "message");

    private static string? CodeOf(ReadOnlySpan<byte> body) => ErrorField(body, "code");

    private static string? ErrorField(ReadOnlySpan<byte> body, string name)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && UpstreamFields.Field(document.RootElement, "error") is { ValueKind: JsonValueKind.Object } error
                ? UpstreamFields.StringOrNone(UpstreamFields.Field(error, name))
                : null;
        }
        catch (JsonException)
        {
            return null; // not JSON (an HTML page from a load balancer): the status says what there is to say
        }
    }
}
