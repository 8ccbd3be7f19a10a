using System.Text;
using System.Text.Json;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.GeminiToOpenAIChat;

/// <summary>Turns an OpenAI error response into a Google error response.</summary>
public static class ChatToGeminiErrorTranslator
{
    /// <summary>An OpenAI error response restated in Google's shape, with the same status but for the gateway's own credential.</summary>
    public static TranslatedError Translate(int status, ReadOnlySpan<byte> body)
    {
        string message;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (!JsonText.IsValid(body))
            {
                throw new JsonException("The error body holds text that is not valid Unicode.");
            }

            message = UpstreamFields.StringOrNone(UpstreamFields.Field(UpstreamFields.Field(document.RootElement, "error"), "message")) is { Length: > 0 } text
                ? text
                : Encoding.UTF8.GetString(body).Trim();
        }
        catch (JsonException)
        {
            message = Encoding.UTF8.GetString(body).Trim();
        }

        if (message.Length == 0)
        {
            message = $"Upstream returned HTTP {status}.";
        }

        // As on the other path: the upstream refusing the gateway's own credential is the gateway's fault.
        return status is 401 or 403
            ? new TranslatedError(502, GoogleErrors.Body(502, "The upstream rejected the gateway's credentials: " + message), null)
            : new TranslatedError(status, GoogleErrors.Body(status, message), null);
    }
}
