using System.Globalization;
using System.Text;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>Turns a Gemini error response into an OpenAI error response with the status OpenAI clients expect.</summary>
public static class GeminiToChatErrorTranslator
{
    private const int MaxMessageChars = 2000;

    public static TranslatedError Translate(int upstreamStatus, ReadOnlySpan<byte> body)
    {
        var (message, status, reason, retryAfter) = Read(upstreamStatus, body);

        // The client's key is the gateway's key: when the upstream refuses *our* credentials, that is a
        // gateway fault (502), not something the client can fix by changing its key.
        if (upstreamStatus is 401 or 403 || reason == "API_KEY_INVALID")
        {
            return new TranslatedError(502, OpenAIChatErrors.Body("The upstream rejected the gateway's credentials: " + message, "upstream_error", null, "upstream_auth_failed"), null);
        }

        var (httpStatus, type, code) = (upstreamStatus, status) switch
        {
            (400, "FAILED_PRECONDITION") => (400, "invalid_request_error", "failed_precondition"),
            (400, _) => (400, "invalid_request_error", (string?)null),
            (402, _) => (429, "insufficient_quota", "insufficient_quota"),
            (404, _) => (404, "invalid_request_error", "model_not_found"),
            (429, _) => (429, "rate_limit_error", "rate_limit_exceeded"),
            (503, _) => (503, "server_error", "service_unavailable"),
            (504, _) => (504, "timeout", null),
            (var s, _) => (s, OpenAIChatErrors.TypeFor(s), null),
        };

        var prefix = status is null ? string.Empty : status + ": ";
        return new TranslatedError(httpStatus, OpenAIChatErrors.Body(prefix + message, type, null, code), retryAfter);
    }

    /// <summary>Writes a Google error object that arrived inside a stream as an OpenAI error event payload.</summary>
    internal static void WriteStreamError(Utf8JsonWriter writer, JsonElement googleError)
    {
        // The stream is failing already: an odd field reads as absent rather than costing the client the error itself.
        var code = UpstreamFields.Int32OrNone(UpstreamFields.Field(googleError, "code")) ?? 500;
        var message = UpstreamFields.StringOrNone(UpstreamFields.Field(googleError, "message")) ?? "Upstream error";
        var status = UpstreamFields.StringOrNone(UpstreamFields.Field(googleError, "status"));
        OpenAIChatErrors.Write(writer, status is null ? message : status + ": " + message, OpenAIChatErrors.TypeFor(code), null, status?.ToLowerInvariant());
    }

    private static (string Message, string? Status, string? Reason, TimeSpan? RetryAfter) Read(int upstreamStatus, ReadOnlySpan<byte> body)
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
