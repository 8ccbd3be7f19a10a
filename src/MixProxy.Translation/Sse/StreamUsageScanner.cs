using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Sse;

/// <summary>
/// Finds the usage a passed-through stream reported, without parsing or holding the stream. It follows the JSON
/// nesting of the bytes as they pass, so it knows where each top-level object ends (one SSE <c>data:</c> payload,
/// or one element of Gemini's JSON-array stream), and reads the usage of each object that has one as it ends. Both
/// protocols report cumulative usage on their last chunks: Gemini on every chunk, OpenAI on the final usage chunk.
/// What the usage is called and how it reads, and whether a complete stream names a finish reason, is the protocol's
/// <see cref="StreamUsageDialect"/>.
/// <para>
/// Memory matters here because a stream can stay open for minutes: between events the scanner holds nothing but
/// the last usage it read. Only an object split across reads is buffered until it ends, and of a long one only its
/// end (16–32 KB), since usage comes after the content.
/// </para>
/// <para>
/// The framing is taken from the first byte: <c>[</c> is Gemini's JSON array, anything else is SSE. In SSE an
/// object only starts right after <c>data:</c>, and a line break inside one (which JSON on one data line cannot
/// have) abandons it, so a stray brace in a comment or a malformed event costs that event, not the stream.
/// </para>
/// </summary>
public sealed class StreamUsageScanner(StreamUsageDialect dialect) : IDisposable
{
    /// <summary>How much of one unfinished object is kept at least: its end, where a chunk's usage sits.</summary>
    internal const int TailBytes = 16 * 1024;

    private static readonly SearchValues<byte> StringEnds = SearchValues.Create("\"\\"u8);
    private static readonly SearchValues<byte> StructureInArray = SearchValues.Create("\"{}[]"u8);
    private static readonly SearchValues<byte> StructureInSse = SearchValues.Create("\"{}[]\r\n"u8);

    private readonly PooledBufferWriter _partial = new();
    private Framing _framing;
    private LineState _line;
    private int _fieldMatched;
    private int _depth;
    private bool _inString;
    private bool _escaped;
    private TokenUsage? _usage;
    private bool _sawError;
    private bool _sawFinish;
    private bool _sawMalformed;
    private bool _closedArray;

    private enum Framing
    {
        Unknown,
        Sse,
        JsonArray,
    }

    private enum LineState
    {
        /// <summary>At the start of a line, or matching its field name against <c>data:</c>.</summary>
        FieldName,

        /// <summary>After <c>data:</c>, before the value: spaces may follow, then an object may start.</summary>
        DataValue,

        /// <summary>The rest of a line that holds no object (another field, a comment, <c>[DONE]</c>, text after an object).</summary>
        Ignored,
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        // Where the object in progress starts in this read: 0 when it began in an earlier one.
        var start = _depth > 0 ? 0 : -1;
        var i = 0;
        while (i < bytes.Length)
        {
            if (_framing == Framing.Unknown)
            {
                if (IsWhitespace(bytes[i]))
                {
                    i++;
                    continue;
                }

                _framing = bytes[i] == (byte)'[' ? Framing.JsonArray : Framing.Sse;
            }

            if (_depth == 0)
            {
                _closedArray |= _framing == Framing.JsonArray && bytes[i] == (byte)']';
                if (StartsObject(bytes[i]))
                {
                    _depth = 1;
                    start = i;
                }

                i++;
                continue;
            }

            if (_inString)
            {
                // Long strings (text, base64 media) are most of the bytes: skip to the next quote or backslash.
                var next = _escaped ? 0 : bytes[i..].IndexOfAny(StringEnds);
                var lineBreak = _framing == Framing.Sse ? bytes[i..(next < 0 ? bytes.Length : i + next + 1)].IndexOfAny((byte)'\r', (byte)'\n') : -1;
                if (lineBreak >= 0)
                {
                    i += lineBreak;
                    Abandon();
                    start = -1;
                    continue;
                }

                if (next < 0)
                {
                    break;
                }

                i += next;
                if (_escaped)
                {
                    _escaped = false; // whatever follows a backslash is part of the string
                }
                else if (bytes[i] == (byte)'\\')
                {
                    _escaped = true;
                }
                else
                {
                    _inString = false;
                }

                i++;
                continue;
            }

            var structure = bytes[i..].IndexOfAny(_framing == Framing.Sse ? StructureInSse : StructureInArray);
            if (structure < 0)
            {
                break;
            }

            i += structure;
            switch (bytes[i])
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
                        _line = LineState.Ignored; // one object per data line
                    }

                    break;
                default: // a line break inside an SSE object
                    Abandon();
                    start = -1;
                    continue;
            }

            i++;
        }

        if (start >= 0 && _depth > 0)
        {
            KeepPartial(bytes[start..]);
        }
    }

    /// <summary>
    /// True when the stream did not end as a complete answer: an error object, a malformed or cut-off object, or
    /// (Gemini) no finish reason. Used to keep such streams out of the response cache.
    /// </summary>
    public bool LooksIncomplete() => _sawError || _sawMalformed || _depth > 0 || (dialect.FinishKeys is not null && !_sawFinish);

    /// <summary>
    /// The stream ended before its protocol's finish: the dialect names one (Gemini's finish reason), no object carried
    /// it, and none was an error (an error event is an end of its own). Asked once the stream is over.
    /// </summary>
    public bool EndedBeforeFinish => dialect.FinishKeys is not null && !_sawFinish && !_sawError;

    /// <summary>A JSON-array stream's closing bracket passed: nothing can follow it.</summary>
    public bool ClosedItsArray => _closedArray;

    /// <summary>The last usage an object reported, or null when none did.</summary>
    public TokenUsage? Read() => _usage;

    public void Dispose() => _partial.Release();

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    /// <summary>Between objects: does this byte open one? Also follows SSE lines, so only a data field's value can.</summary>
    private bool StartsObject(byte b)
    {
        if (_framing == Framing.JsonArray)
        {
            return b == (byte)'{';
        }

        if (b is (byte)'\r' or (byte)'\n')
        {
            _line = LineState.FieldName;
            _fieldMatched = 0;
            return false;
        }

        switch (_line)
        {
            case LineState.FieldName:
                if (_fieldMatched < 5 && b == "data:"u8[_fieldMatched])
                {
                    if (++_fieldMatched == 5)
                    {
                        _line = LineState.DataValue;
                    }
                }
                else
                {
                    _line = LineState.Ignored;
                }

                return false;
            case LineState.DataValue:
                if (b == (byte)'{')
                {
                    return true;
                }

                if (b != (byte)' ')
                {
                    _line = LineState.Ignored;
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>An SSE object broke off at a line end: it is dropped and the scan goes on with the next line.</summary>
    private void Abandon()
    {
        _sawMalformed = true;
        _depth = 0;
        _inString = false;
        _escaped = false;
        _partial.Release();
        _line = LineState.FieldName; // the line break itself is read next, between objects
        _fieldMatched = 0;
    }

    /// <summary>The rest of an object that continues in the next read; of a long one only its end is kept.</summary>
    private void KeepPartial(ReadOnlySpan<byte> piece)
    {
        // Before anything is dropped: a finish reason early in a long chunk (before its grounding) still counts,
        // also when it straddles two reads.
        if (dialect.FinishKeys is { } finishes && !_sawFinish)
        {
            // The keys are short protocol constants: one buffer fits the seam of the longest.
            Span<byte> seamBuffer = stackalloc byte[2 * finishes.Max(static key => key.Length)];
            foreach (var finish in finishes)
            {
                var seam = seamBuffer[..(2 * finish.Length)];
                var before = _partial.WrittenSpan[Math.Max(0, _partial.WrittenCount - finish.Length)..];
                before.CopyTo(seam);
                var after = piece[..Math.Min(piece.Length, finish.Length)];
                after.CopyTo(seam[before.Length..]);
                if (piece.IndexOf(finish) >= 0 || seam[..(before.Length + after.Length)].IndexOf(finish) >= 0)
                {
                    _sawFinish = true;
                    break;
                }
            }
        }

        if (piece.Length >= TailBytes)
        {
            _partial.Release();
            piece = piece[^TailBytes..];
        }
        else if (_partial.WrittenCount + piece.Length > 2 * TailBytes)
        {
            _partial.KeepLast(TailBytes - piece.Length);
        }

        piece.CopyTo(_partial.GetSpan(piece.Length));
        _partial.Advance(piece.Length);
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

    private static bool ContainsAny(ReadOnlySpan<byte> json, byte[][] keys)
    {
        foreach (var key in keys)
        {
            if (json.IndexOf(key) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private void Inspect(ReadOnlySpan<byte> json)
    {
        // An error is an object whose first key is "error" (an "error" in the content, say a function's argument, is not).
        _sawError |= json.Length > 1 && json[0] == (byte)'{' && json[1..].TrimStart(" \t\r\n"u8).StartsWith("\"error\""u8);
        _sawFinish = _sawFinish || (dialect.FinishKeys is { } finishes && ContainsAny(json, finishes));

        // The last usage key whose value is an object with token counts (OpenAI sends "usage":null on most chunks, and
        // a function's arguments could hold the same key); an object without one leaves the usage read so far alone.
        var name = dialect.UsageKey.AsSpan();
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
                if (value.Length > 0 && value[0] == (byte)'{' && ReadUsageObject(value) is { } usage && (usage.Total > 0 || _usage is null))
                {
                    _usage = usage;
                    return;
                }
            }

            end = at;
        }
    }

    private TokenUsage? ReadUsageObject(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, isFinalBlock: false, state: default);
            using var document = JsonDocument.ParseValue(ref reader);
            return dialect.ReadUsageObject(document.RootElement);
        }
        catch (JsonException)
        {
            // Not JSON after all: not a usage this gateway can count (a count that is not an integer reads as absent).
            return null;
        }
    }
}
