using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.Gemini;

/// <summary>Google's error shape: <c>{"error":{"code","message","status"}}</c>.</summary>
public static class GoogleErrors
{
    public static byte[] Body(int httpStatus, string message, string? status = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WireJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("error"u8);
            writer.WriteStartObject();
            writer.WriteNumber("code"u8, httpStatus);
            writer.WriteString("message"u8, message);
            writer.WriteString("status"u8, status ?? StatusFor(httpStatus));
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The canonical google.rpc status name Google's APIs pair with an HTTP status.</summary>
    public static string StatusFor(int httpStatus) => httpStatus switch
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
}
