using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.Protocols;

/// <summary>
/// A whole response passed on in its own protocol, read once: its usage goes to the outcome and, when asked, the
/// provider page's <c>output.text</c> is added, every other field left exactly as the upstream wrote it. What the
/// protocol calls its usage and its text, the passthrough exchange says.
/// </summary>
public static class PassthroughResponse
{
    /// <summary>Returns the content type of the body written to <paramref name="output"/>, or null to pass the upstream's on as it came.</summary>
    public static string? Read(
        ReadOnlySpan<byte> body,
        string? upstreamContentType,
        IBufferWriter<byte> output,
        ExchangeOutcome outcome,
        bool outputText,
        Func<JsonElement, TokenUsage?> readUsage,
        Func<JsonElement, string> readText)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(readUsage);
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return null; // not the gateway's to judge: passed on as it came, without usage
        }

        using (document)
        {
            outcome.Usage = readUsage(document.RootElement);

            // Text that is not valid Unicode cannot be copied into output.text: the body then goes on as it came.
            return outputText && JsonText.IsValid(body) && OutputText.TryAdd(document.RootElement, readText, output) ? upstreamContentType ?? "application/json" : null;
        }
    }
}
