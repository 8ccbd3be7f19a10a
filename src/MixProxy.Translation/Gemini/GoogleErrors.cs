using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Gemini;

/// <summary>Google's error shape: <c>{"error":{"code","message","status"}}</c>.</summary>
public static class GoogleErrors
{
    private const int MaxMessageChars = 2000;

    /// <summary>
    /// What a Google error says about the upstream: its <c>RetryInfo</c> delay, and whether the key was refused
    /// (401, 403, or the 400 <c>API_KEY_INVALID</c> Google answers a bad key with).
    /// </summary>
    public static UpstreamErrorFacts ReadFacts(int status, ReadOnlySpan<byte> body)
    {
        var (_, _, reason, retryAfter) = Read(status, body);
        return new UpstreamErrorFacts(retryAfter, status is 401 or 403 || reason == "API_KEY_INVALID");
    }

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
        413 or 414 or 431 => "INVALID_ARGUMENT",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        502 or 503 => "UNAVAILABLE",
        _ => httpStatus >= 500 ? "INTERNAL" : "FAILED_PRECONDITION",
    };

    /// <summary>The message, status, first reason and retry delay of a Google error body; a body of another shape is its own message.</summary>
    internal static (string Message, string? Status, string? Reason, TimeSpan? RetryAfter) Read(int upstreamStatus, ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (!JsonText.IsValid(body))
            {
                throw new JsonException("The error body holds text that is not valid Unicode.");
            }

            var root = document.RootElement;

            // Google's own OpenAI-compatible endpoint wraps the error object in an array.
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0)
            {
                root = root[0];
            }

            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : $"Upstream returned HTTP {upstreamStatus}.";
                var status = error.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                string? reason = null;
                TimeSpan? retry = null;
                if (error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
                {
                    foreach (var detail in details.EnumerateArray())
                    {
                        if (detail.ValueKind != JsonValueKind.Object)
                        {
                            continue;
                        }

                        if (detail.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String)
                        {
                            reason ??= r.GetString();
                        }

                        if (UpstreamFields.StringOrNone(UpstreamFields.Field(detail, "retryDelay")) is { } d)
                        {
                            retry = ParseDuration(d);
                        }
                    }
                }

                return (Truncate(message), status, reason, retry);
            }
        }
        catch (JsonException)
        {
            // Not JSON of the expected shape (a load balancer's HTML page, say): the text itself is the message.
        }

        var text = Encoding.UTF8.GetString(body).Trim();
        return (text.Length == 0 ? $"Upstream returned HTTP {upstreamStatus} with no body." : Truncate(text), null, null, null);
    }

    /// <summary>Parses a protobuf JSON duration such as <c>"37s"</c> or <c>"1.5s"</c>.</summary>
    internal static TimeSpan? ParseDuration(string value) =>
        value.EndsWith('s') && double.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : null;

    private static string Truncate(string message) => message.Length <= MaxMessageChars ? message : message[..MaxMessageChars] + "…";
}
