using System.Buffers;

namespace MixProxy.Benchmarks.Streams;

/// <summary>
/// Cuts a byte stream into SSE events at blank lines (LF or CRLF framing) and reports, per event, the chunk marker
/// it carries (<c>tok</c> + three digits, -1 when none) and whether it is OpenAI's <c>[DONE]</c>. Only what the
/// benchmark needs: no field parsing, no allocation per event beyond the growing line buffer.
/// </summary>
internal sealed class SseFramer
{
    private readonly ArrayBufferWriter<byte> _event = new(1024);
    private bool _lineEmpty = true;

    public void Feed(ReadOnlySpan<byte> bytes, Action<int, bool> onEvent)
    {
        foreach (var b in bytes)
        {
            if (b == (byte)'\r')
            {
                continue; // CRLF framing (Gemini) ends events the same way as LF framing (OpenAI)
            }

            if (b == (byte)'\n')
            {
                if (_lineEmpty)
                {
                    if (_event.WrittenCount > 0)
                    {
                        var data = _event.WrittenSpan;
                        onEvent(Marker(data), data.IndexOf("[DONE]"u8) >= 0);
                        _event.ResetWrittenCount();
                    }
                }
                else
                {
                    _event.Write("\n"u8);
                }

                _lineEmpty = true;
                continue;
            }

            _lineEmpty = false;
            _event.GetSpan(1)[0] = b;
            _event.Advance(1);
        }
    }

    /// <summary>The number after the first <c>tok</c> followed by three digits, or -1.</summary>
    public static int Marker(ReadOnlySpan<byte> data)
    {
        var at = 0;
        while (at < data.Length)
        {
            var found = data[at..].IndexOf("tok"u8);
            if (found < 0)
            {
                return -1;
            }

            var start = at + found + 3;
            if (start + 3 <= data.Length && IsDigit(data[start]) && IsDigit(data[start + 1]) && IsDigit(data[start + 2]))
            {
                return ((data[start] - '0') * 100) + ((data[start + 1] - '0') * 10) + (data[start + 2] - '0');
            }

            at = start;
        }

        return -1;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';
}
