using System.Globalization;
using System.Text;
using System.Text.Json;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>Turns a Gemini error response into an OpenAI error response with the status OpenAI clients expect.</summary>
public static class GeminiToChatErrorTranslator
{
    public static TranslatedError Translate(int upstreamStatus, ReadOnlySpan<byte> body)
    {
        var (message, status, reason, retryAfter) = GoogleErrors.Read(upstreamStatus, body);

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

}
