using System.Text.Json;

namespace MixProxy.Translation.Usage;

/// <summary>
/// Finds the usage a passed-through stream reported, without parsing or holding the stream: it keeps the
/// last few KB and, at the end, reads the last usage object in them. Both protocols put their (cumulative)
/// usage near the end: Gemini on its last chunks (SSE or JSON array), OpenAI on the final usage chunk.
/// </summary>
public sealed class StreamUsageScanner(ApiProtocol protocol)
{
    private const int TailBytes = 16 * 1024;

    private readonly byte[] _tail = new byte[TailBytes * 2];
    private int _length;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= TailBytes)
        {
            bytes[^TailBytes..].CopyTo(_tail);
            _length = TailBytes;
            return;
        }

        if (_length + bytes.Length > _tail.Length)
        {
            // Keep only the newest TailBytes before appending.
            var keep = Math.Min(_length, TailBytes - bytes.Length);
            _tail.AsSpan(_length - keep, keep).CopyTo(_tail);
            _length = keep;
        }

        bytes.CopyTo(_tail.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>
    /// True when the stream's tail shows it did not end as a complete answer: an error object, or (Gemini) no finish
    /// reason. Used to keep such streams out of the response cache.
    /// </summary>
    public bool LooksIncomplete()
    {
        var tail = _tail.AsSpan(0, _length);
        return tail.IndexOf("\"error\""u8) >= 0 || (protocol == ApiProtocol.Gemini && tail.IndexOf("\"finishReason\""u8) < 0);
    }

    /// <summary>The last usage object in the stream's tail, or null when none was reported.</summary>
    public TokenUsage? Read()
    {
        var tail = _tail.AsSpan(0, _length);
        var name = protocol == ApiProtocol.Gemini ? "\"usageMetadata\""u8 : "\"usage\""u8;
        var end = tail.Length;
        while (end > 0)
        {
            var at = tail[..end].LastIndexOf(name);
            if (at < 0)
            {
                return null;
            }

            var rest = tail[(at + name.Length)..].TrimStart(" \t\r\n"u8);
            if (rest.Length > 1 && rest[0] == (byte)':')
            {
                var value = rest[1..].TrimStart(" \t\r\n"u8);
                if (value.Length > 0 && value[0] == (byte)'{' && TryReadObject(value, out var usage))
                {
                    return usage;
                }
            }

            end = at;
        }

        return null;
    }

    private bool TryReadObject(ReadOnlySpan<byte> json, out TokenUsage? usage)
    {
        usage = null;
        try
        {
            var reader = new Utf8JsonReader(json, isFinalBlock: false, state: default);
            using var document = JsonDocument.ParseValue(ref reader);

            // Wrap the object so both protocols' readers see it where they expect it.
            var wrapped = protocol == ApiProtocol.Gemini
                ? $"{{\"usageMetadata\":{document.RootElement.GetRawText()}}}"
                : $"{{\"usage\":{document.RootElement.GetRawText()}}}";
            usage = UsageReader.FromResponse(System.Text.Encoding.UTF8.GetBytes(wrapped), protocol);
            return usage is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
