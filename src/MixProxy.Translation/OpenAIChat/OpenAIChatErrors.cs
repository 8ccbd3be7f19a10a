using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>OpenAI's error shape: <c>{"error":{"message","type","param","code"}}</c>.</summary>
public static class OpenAIChatErrors
{
    public static byte[] Body(string message, string type, string? param = null, string? code = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            Write(writer, message, type, param, code);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// What an OpenAI-style error says about the upstream: the key was refused on 401, 403 or <c>code: invalid_api_key</c>.
    /// OpenAI puts its waits in headers (<c>Retry-After</c>, <c>retry-after-ms</c>), which the host reads.
    /// </summary>
    public static UpstreamErrorFacts ReadFacts(int status, ReadOnlySpan<byte> body)
    {
        var facts = UpstreamErrorFacts.FromStatus(status);
        if (facts.CredentialRejected || body.IndexOf("invalid_api_key"u8) < 0)
        {
            return facts;
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var rejected = document.RootElement.ValueKind == JsonValueKind.Object
                && UpstreamFields.Field(document.RootElement, "error") is { ValueKind: JsonValueKind.Object } error
                && UpstreamFields.StringOrNone(UpstreamFields.Field(error, "code")) == "invalid_api_key";
            return facts with { CredentialRejected = rejected };
        }
        catch (JsonException)
        {
            return facts; // not JSON: the status says all there is
        }
    }

    public static void Write(Utf8JsonWriter writer, string message, string type, string? param, string? code)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WritePropertyName("error"u8);
        writer.WriteStartObject();
        writer.WriteString("message"u8, message);
        writer.WriteString("type"u8, type);
        writer.WriteString("param"u8, param);
        writer.WriteString("code"u8, code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>OpenAI's <c>error.type</c> for an HTTP status.</summary>
    public static string TypeFor(int httpStatus) => httpStatus switch
    {
        400 or 404 or 413 or 415 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        504 or 408 => "timeout",
        _ => httpStatus >= 500 ? "server_error" : "invalid_request_error",
    };
}
