using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>
/// An OpenAI stream passed through event by event while its usage is noted. When the gateway added
/// <c>include_usage</c> itself (the client did not ask), the usage-only chunk is dropped again, so the client
/// sees exactly the stream it asked for.
/// </summary>
public sealed class ChatStreamUsageFilter(ExchangeOutcome outcome, bool dropUsageChunk) : IStreamEventTranslator
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    private bool _sawDone;
    private bool _sawFinish;

    public bool IsEnded { get; private set; }

    public bool Faulted { get; private set; }

    /// <summary>
    /// <c>[DONE]</c> or a finish reason came: the stream is passed on as the upstream wrote it, so only a stream with
    /// neither (cut before the answer's end) gets the gateway's error event.
    /// </summary>
    public bool AnswerComplete => _sawDone || _sawFinish;

    public void TranslateEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        _sawFinish = _sawFinish || NamesAFinishReason(data);
        if (data.SequenceEqual("[DONE]"u8))
        {
            IsEnded = true;
            _sawDone = true;
        }
        else if (data.IndexOf("\"usage\""u8) >= 0 || data.IndexOf("\"error\""u8) >= 0)
        {
            // Only chunks that can carry usage (or an error) are parsed; the rest pass as bytes.
            try
            {
                var reader = new Utf8JsonReader(data);
                using var document = JsonDocument.ParseValue(ref reader);
                var root = document.RootElement;
                Faulted |= root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out _);
                if (OpenAIChatUsage.Read(root) is { } usage)
                {
                    outcome.Usage = usage;
                    if (dropUsageChunk && root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() == 0)
                    {
                        return;
                    }
                }
            }
            catch (JsonException)
            {
                // Not ours to judge: pass it on as it came.
            }
        }

        output.Write(DataPrefix);
        output.Write(data);
        output.Write(EventEnd);
    }

    /// <summary>Whether a chunk has a <c>"finish_reason"</c> whose value is a string (most chunks carry it as null), read from its bytes.</summary>
    private static bool NamesAFinishReason(ReadOnlySpan<byte> data)
    {
        for (var at = data.IndexOf("\"finish_reason\""u8); at >= 0;)
        {
            var rest = data[(at + "\"finish_reason\""u8.Length)..].TrimStart(" \t\r\n"u8);
            if (rest.Length > 0 && rest[0] == (byte)':' && rest[1..].TrimStart(" \t\r\n"u8) is [(byte)'"', ..])
            {
                return true;
            }

            data = rest;
            at = data.IndexOf("\"finish_reason\""u8);
        }

        return false;
    }

    public void Complete(IBufferWriter<byte> output)
    {
        // An OpenAI stream that ends without [DONE] was cut: pass on what came, but do not treat it as complete.
        Faulted |= !_sawDone;
        IsEnded = true;
    }

    public void WriteFault(IBufferWriter<byte> output, StreamFault fault)
    {
        output.Write(DataPrefix);
        using (var writer = new Utf8JsonWriter(output, WireJson.WriterOptions))
        {
            var message = fault == StreamFault.Upstream
                ? "The upstream stopped mid-answer; the stream was ended."
                : "The gateway failed while passing on the upstream's stream; the stream was stopped.";
            OpenAIChatErrors.Write(writer, message, "server_error", null, null);
        }

        output.Write(EventEnd);
        Faulted = true;
        IsEnded = true;
    }
}
