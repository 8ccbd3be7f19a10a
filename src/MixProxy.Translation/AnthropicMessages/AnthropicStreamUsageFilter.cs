using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.AnthropicMessages;

/// <summary>
/// Passes an Anthropic stream on event by event, each as it came (its <c>event:</c> line is the payload's own
/// <c>type</c>), while reading its usage: <c>message_start</c> holds the input counts and each <c>message_delta</c>
/// the cumulative output (and, in newer API versions, the input again). One usage object alone would miss one side,
/// so the two are merged. A stream without <c>message_stop</c>, or with an <c>error</c> event, is incomplete.
/// </summary>
internal sealed class AnthropicStreamUsageFilter(ExchangeOutcome outcome) : IStreamEventTranslator
{
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "\ndata: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] MessageEvent = "message"u8.ToArray();

    private static readonly System.Buffers.SearchValues<byte> EventNameBytes = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz_"u8);

    private long? _input;
    private long? _output;
    private long _cacheRead;
    private long _cacheWrite;
    private bool _stopped;

    public bool IsEnded { get; private set; }

    public bool Faulted { get; private set; }

    public void TranslateEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (IsEnded)
        {
            return;
        }

        byte[] name = MessageEvent;
        try
        {
            var reader = new Utf8JsonReader(data);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("type"u8, out var t) && t.ValueKind == JsonValueKind.String)
            {
                // Compared as written (an escaped type is no type Anthropic sends, and a lone surrogate cannot even be
                // read as a string). The event's name is its type when that is a plain word: anything else (a line break, an escape)
                // would be written into the event line, so such an event goes out as a nameless "message".
                var raw = JsonMarshal.GetRawUtf8Value(t);
                if (raw.Length > 2 && raw[1..^1].IndexOfAnyExcept(EventNameBytes) < 0)
                {
                    name = raw[1..^1].ToArray();
                }

                if (raw.SequenceEqual("\"message_start\""u8) && root.TryGetProperty("message"u8, out var message))
                {
                    Read(AnthropicFields.Get(message, AnthropicMessagesVocabulary.Usage));
                }
                else if (raw.SequenceEqual("\"message_delta\""u8))
                {
                    Read(AnthropicFields.Get(root, AnthropicMessagesVocabulary.Usage));
                }
                else if (raw.SequenceEqual("\"message_stop\""u8))
                {
                    _stopped = true;
                }
                else if (raw.SequenceEqual("\"error\""u8))
                {
                    Faulted = true;
                }
            }
        }
        catch (JsonException)
        {
            // Not the gateway's to judge: passed on as it came, and the stream counts as incomplete.
            Faulted = true;
        }

        output.Write(EventPrefix);
        output.Write(name);
        output.Write(DataPrefix);
        output.Write(data);
        output.Write(EventEnd);
        Publish();
    }

    public void Complete(IBufferWriter<byte> output)
    {
        IsEnded = true;
        Faulted |= !_stopped;
        Publish();
    }

    public void WriteFault(IBufferWriter<byte> output, StreamFault fault)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(AnthropicStreamEvents.Error(fault == StreamFault.Upstream
            ? "The upstream stopped mid-answer; the stream was ended."
            : "The gateway could not pass on an upstream event; the stream was stopped."));
        IsEnded = true;
        Faulted = true;
        Publish();
    }

    private void Read(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        static long? Get(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
        _input = Get(usage, "input_tokens") ?? _input;
        _output = Get(usage, "output_tokens") ?? _output;
        _cacheRead = Get(usage, "cache_read_input_tokens") ?? _cacheRead;
        _cacheWrite = Get(usage, "cache_creation_input_tokens") ?? _cacheWrite;
    }

    private void Publish()
    {
        if (_input is null && _output is null)
        {
            return;
        }

        var input = (_input ?? 0) + _cacheRead + _cacheWrite;
        outcome.Usage = new TokenUsage(input, _output ?? 0, input + (_output ?? 0), Reasoning: 0, Cached: _cacheRead);
    }
}
