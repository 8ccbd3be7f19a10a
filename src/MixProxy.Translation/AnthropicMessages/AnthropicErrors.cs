using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessages;

/// <summary>Anthropic's error shape: <c>{"type":"error","error":{"type","message"}}</c>, and its error types by status.</summary>
public static class AnthropicErrors
{
    /// <summary>Anthropic's status for an overloaded API, which its clients retry and show as such.</summary>
    public const int OverloadedStatus = 529;

    public static byte[] Body(string type, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            Write(writer, type, message);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Utf8JsonWriter writer, string type, string message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("type"u8, "error");
        writer.WritePropertyName("error"u8);
        writer.WriteStartObject();
        writer.WriteString("type"u8, type);
        writer.WriteString("message"u8, message);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Anthropic's <c>error.type</c> for an HTTP status (its errors page); 503 is an overload as 529 is.</summary>
    public static string TypeFor(int status) => status switch
    {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or OverloadedStatus => "overloaded_error",
        504 => "timeout_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    /// <summary>
    /// What an Anthropic error says about the upstream: the key was refused on 401, 403 or <c>authentication_error</c>.
    /// Anthropic puts its waits in <c>retry-after</c> headers, which the host reads.
    /// </summary>
    public static UpstreamErrorFacts ReadFacts(int status, ReadOnlySpan<byte> body)
    {
        var facts = UpstreamErrorFacts.FromStatus(status);
        return facts.CredentialRejected || body.IndexOf("\"authentication_error\""u8) < 0 ? facts : facts with { CredentialRejected = true };
    }
}
