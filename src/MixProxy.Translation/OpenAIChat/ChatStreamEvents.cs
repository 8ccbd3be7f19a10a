using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>A translator of a Chat Completions stream into another client's events (what <see cref="ChatStreamEvents.Read"/> hands each event to).</summary>
internal interface IChatChunkTranslator
{
    /// <summary>One <c>chat.completion.chunk</c>, parsed and checked.</summary>
    void TranslateChunk(JsonElement chunk, IBufferWriter<byte> output);

    /// <summary><c>[DONE]</c>: the upstream's stream is over.</summary>
    void Complete(IBufferWriter<byte> output);

    /// <summary>
    /// An event that cannot be read: it is not skipped (it may have carried text or a call), the stream ends with an
    /// error. <paramref name="detail"/> is what was wrong with an event of an unexpected shape, when known.
    /// </summary>
    void FailOnBadEvent(IBufferWriter<byte> output, string message, string? detail);
}

/// <summary>
/// How a bridge reads one event of a Chat Completions stream, whatever it turns it into: blank events skipped,
/// <c>[DONE]</c> completing, a chunk parsed and its text checked to be valid Unicode before the translator reads it,
/// and an event that is not JSON, not Unicode or not of the expected shape ending the stream with an error.
/// </summary>
internal static class ChatStreamEvents
{
    public static void Read<TTranslator>(TTranslator translator, ReadOnlySpan<byte> data, IBufferWriter<byte> output)
        where TTranslator : IChatChunkTranslator
    {
        var trimmed = data.Trim(" \t\r\n"u8);
        if (trimmed.IsEmpty)
        {
            return;
        }

        if (trimmed.SequenceEqual("[DONE]"u8))
        {
            translator.Complete(output);
            return;
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(trimmed);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            translator.FailOnBadEvent(output, "The upstream sent an event that is not valid JSON; the stream was stopped.", null);
            return;
        }

        using (document)
        {
            if (!JsonText.IsValid(trimmed))
            {
                // A lone surrogate cannot be read as text, let alone passed on as it.
                translator.FailOnBadEvent(output, "The upstream sent an event whose text is not valid Unicode; the stream was stopped.", null);
                return;
            }

            try
            {
                translator.TranslateChunk(document.RootElement, output);
            }
            catch (UpstreamResponseException e)
            {
                // Fields are read before anything of a chunk is written, so every event that went out is whole.
                translator.FailOnBadEvent(output, "The upstream sent an event of an unexpected shape; the stream was stopped.", e.Message);
            }
        }
    }
}
