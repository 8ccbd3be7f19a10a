using System.Text.Json;
using MixProxy.Translation.Streaming;

namespace MixProxy.Translation.Usage;

/// <summary>
/// Finds the usage a passed-through stream reported, without parsing or holding the stream. It follows the JSON
/// nesting of the bytes as they pass, so it knows where each top-level object (one SSE event's payload, or one
/// element of Gemini's JSON-array stream) ends, and keeps only what it needs of it: the usage object of the last
/// object that had one. Both protocols put their (cumulative) usage on their last chunks: Gemini on every chunk,
/// OpenAI on the final usage chunk.
/// <para>
/// Memory matters here because a stream can stay open for minutes: between events the scanner holds a few hundred
/// bytes (the last usage object). Only an object split across reads is buffered until it ends, and then at most its
/// last <see cref="TailBytes"/>, since usage comes after the content.
/// </para>
/// </summary>
public sealed class StreamUsageScanner(ApiProtocol protocol) : IDisposable
{
    /// <summary>How much of one unfinished object is kept: its end, where a chunk's usage sits.</summary>
    internal const int TailBytes = 16 * 1024;

    private readonly PooledBufferWriter _partial = new();
    private byte[] _usage = [];
    private int _usageLength;
    private int _depth;
    private bool _inString;
    private bool _escaped;
    private bool _sawError;
    private bool _sawFinish;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        // Where the object in progress starts in this read: 0 when it began in an earlier one.
        var start = _depth > 0 ? 0 : -1;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (_depth == 0)
            {
                // Between objects: SSE field names, array brackets, commas, blank lines. Only '{' matters.
                if (b == (byte)'{')
                {
                    _depth = 1;
                    start = i;
                }

                continue;
            }

            if (_inString)
            {
                if (_escaped)
                {
                    _escaped = false;
                }
                else if (b == (byte)'\\')
                {
                    _escaped = true;
                }
                else if (b == (byte)'"')
                {
                    _inString = false;
                }

                continue;
            }

            switch (b)
            {
                case (byte)'"':
                    _inString = true;
                    break;
                case (byte)'{' or (byte)'[':
                    _depth++;
                    break;
                case (byte)'}' or (byte)']':
                    if (--_depth == 0)
                    {
                        Complete(bytes[start..(i + 1)]);
                        start = -1;
                    }

                    break;
            }
        }

        if (start >= 0)
        {
            KeepPartial(bytes[start..]);
        }
    }

    /// <summary>
    /// True when the stream did not end as a complete answer: an error object, an object cut off by the end of the
    /// stream, or (Gemini) no finish reason. Used to keep such streams out of the response cache.
    /// </summary>
    public bool LooksIncomplete() => _sawError || _depth > 0 || (protocol == ApiProtocol.Gemini && !_sawFinish);

    /// <summary>The usage of the last object that reported one, or null when none did.</summary>
    public TokenUsage? Read()
    {
        if (_usageLength == 0)
        {
            return null;
        }

        var name = UsageName;
        try
        {
            // The kept bytes start at the usage object itself; wrap it so both protocols' readers find it where they expect it.
            var reader = new Utf8JsonReader(_usage.AsSpan(0, _usageLength), isFinalBlock: false, state: default);
            using var document = JsonDocument.ParseValue(ref reader);
            var wrapped = $"{{{System.Text.Encoding.UTF8.GetString(name)}:{document.RootElement.GetRawText()}}}";
            return UsageReader.FromResponse(System.Text.Encoding.UTF8.GetBytes(wrapped), protocol);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _partial.Release();

    private ReadOnlySpan<byte> UsageName => protocol == ApiProtocol.Gemini ? "\"usageMetadata\""u8 : "\"usage\""u8;

    /// <summary>The rest of an object that continues in the next read; of a long one only its end is kept.</summary>
    private void KeepPartial(ReadOnlySpan<byte> piece)
    {
        if (piece.Length >= TailBytes)
        {
            _partial.Release();
            piece = piece[^TailBytes..];
        }
        else if (_partial.WrittenCount + piece.Length > 2 * TailBytes)
        {
            // Slide: keep the newest TailBytes - piece.Length bytes of what is buffered, then add the piece.
            var keep = _partial.WrittenSpan[^(TailBytes - piece.Length)..].ToArray();
            _partial.Release();
            Write(keep);
        }

        Write(piece);
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_partial.GetSpan(bytes.Length));
        _partial.Advance(bytes.Length);
    }

    /// <summary>One whole top-level object passed (its earlier part, if any, is in <see cref="_partial"/>).</summary>
    private void Complete(ReadOnlySpan<byte> end)
    {
        if (_partial.WrittenCount > 0)
        {
            KeepPartial(end);
            Inspect(_partial.WrittenSpan);
            _partial.Release();
        }
        else
        {
            Inspect(end);
        }
    }

    private void Inspect(ReadOnlySpan<byte> json)
    {
        // An error is an object whose first key is "error" (an "error" in the content, say a function's argument, is not).
        _sawError |= json.Length > 1 && json[0] == (byte)'{' && json[1..].TrimStart(" \t\r\n"u8).StartsWith("\"error\""u8);
        _sawFinish |= protocol == ApiProtocol.Gemini && json.IndexOf("\"finishReason\""u8) >= 0;

        // The last "usage" key whose value is an object (OpenAI sends "usage":null on most chunks).
        var name = UsageName;
        var end = json.Length;
        while (end > 0)
        {
            var at = json[..end].LastIndexOf(name);
            if (at < 0)
            {
                return;
            }

            var rest = json[(at + name.Length)..].TrimStart(" \t\r\n"u8);
            if (rest.Length > 1 && rest[0] == (byte)':')
            {
                var value = rest[1..].TrimStart(" \t\r\n"u8);
                if (value.Length > 0 && value[0] == (byte)'{')
                {
                    if (_usage.Length < value.Length)
                    {
                        _usage = new byte[Math.Max(value.Length, 256)];
                    }

                    value.CopyTo(_usage);
                    _usageLength = value.Length;
                    return;
                }
            }

            end = at;
        }
    }
}
