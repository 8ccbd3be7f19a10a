using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.Errors;

/// <summary>Error bodies in each protocol's own shape, so a client never has to parse a foreign error.</summary>
public static class ErrorBodies
{
    /// <summary>OpenAI: <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static byte[] OpenAI(string message, string type, string? param = null, string? code = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            WriteOpenAIError(writer, message, type, param, code);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteOpenAIError(Utf8JsonWriter writer, string message, string type, string? param, string? code)
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

    /// <summary>Google: <c>{"error":{"code","message","status"}}</c>.</summary>
    public static byte[] Google(int httpStatus, string message, string? status = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("error"u8);
            writer.WriteStartObject();
            writer.WriteNumber("code"u8, httpStatus);
            writer.WriteString("message"u8, message);
            writer.WriteString("status"u8, status ?? GoogleStatusFor(httpStatus));
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The error in <paramref name="protocol"/>'s shape, with the OpenAI type and code that fit the status.</summary>
    public static byte[] For(ApiProtocol protocol, int httpStatus, string message, string? param = null, string? openAICode = null) =>
        protocol == ApiProtocol.Gemini
            ? Google(httpStatus, message)
            : OpenAI(message, OpenAITypeFor(httpStatus), param, openAICode);

    /// <summary>The canonical google.rpc status name Google's APIs pair with an HTTP status.</summary>
    public static string GoogleStatusFor(int httpStatus) => httpStatus switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        408 or 504 => "DEADLINE_EXCEEDED",
        409 => "ABORTED",
        413 => "INVALID_ARGUMENT",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        502 or 503 => "UNAVAILABLE",
        _ => httpStatus >= 500 ? "INTERNAL" : "FAILED_PRECONDITION",
    };

    /// <summary>OpenAI's <c>error.type</c> for an HTTP status.</summary>
    public static string OpenAITypeFor(int httpStatus) => httpStatus switch
    {
        400 or 404 or 413 or 415 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        504 or 408 => "timeout",
        _ => httpStatus >= 500 ? "server_error" : "invalid_request_error",
    };
}
