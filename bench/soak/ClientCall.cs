using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MixProxy.Soak;

/// <summary>
/// Sends one request as its client would and names what came back: <c>ok</c> (a whole answer: a JSON body, or a stream
/// that ended with its protocol's terminator), <c>status NNN</c>, <c>stream error event</c> (a 200 stream that ended
/// with an error event, as the gateway does for a broken upstream), <c>stream without terminator</c> (a cut the client
/// could mistake for a complete answer), <c>bad body</c>, or <c>transport: …</c> (a reset or a timeout).
/// </summary>
internal static class ClientCall
{
    public static async Task<(string Outcome, long? Tokens)> SendAsync(HttpClient client, Scenario scenario, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, scenario.Path) { Content = new StringContent(scenario.Body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if ((int)response.StatusCode != 200)
            {
                return (WellFormedError(body) ? $"status {(int)response.StatusCode}" : $"status {(int)response.StatusCode} (body not a JSON error)", null);
            }

            var tokens = scenario.Api == ClientApi.Anthropic ? UsageTap.LastAnthropicTotal(body) : UsageTap.LastTotal(body);
            if (!scenario.Stream || response.Content.Headers.ContentType is not MediaTypeHeaderValue { MediaType: "text/event-stream" })
            {
                return (IsJson(body) ? "ok" : "bad body", tokens);
            }

            return (ReadStream(scenario.Api, body), tokens);
        }
        catch (HttpRequestException e)
        {
            return ($"transport: {e.HttpRequestError}", null);
        }
        catch (IOException)
        {
            return ("transport: connection broken mid-body", null);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ("transport: client timeout", null);
        }
    }

    private static string ReadStream(ClientApi api, string body)
    {
        var error = false;
        var terminated = false;
        foreach (var line in body.Split('\n'))
        {
            var text = line.TrimEnd('\r');
            if (text.StartsWith("event: error", StringComparison.Ordinal))
            {
                error = true;
            }

            if (!text.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }

            var data = text[5..].Trim();
            if (data == "[DONE]")
            {
                terminated |= api == ClientApi.Chat;
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(data);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                error |= root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object || type is "error" or "response.failed";
                terminated |= api switch
                {
                    ClientApi.Gemini => data.Contains("\"finishReason\"", StringComparison.Ordinal),
                    ClientApi.Responses => type == "response.completed",
                    ClientApi.Anthropic => type == "message_stop",
                    _ => false,
                };
            }
            catch (JsonException)
            {
                return "bad body";
            }
        }

        return error ? "stream error event" : terminated ? "ok" : "stream without terminator";
    }

    private static bool WellFormedError(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsJson(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
