using System.Buffers;
using System.Text;
using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.AnthropicMessages;

/// <summary>Writes Anthropic's named stream events: an <c>event:</c> line with the type, and the payload, which carries the type again.</summary>
public static class AnthropicStreamEvents
{
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "\ndata: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    /// <summary>One event of <paramref name="type"/>; <paramref name="write"/> adds the payload's fields after its <c>type</c>.</summary>
    public static void Write(IBufferWriter<byte> output, string type, Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(write);
        output.Write(EventPrefix);
        Encoding.UTF8.GetBytes(type, output);
        output.Write(DataPrefix);
        using (var writer = new Utf8JsonWriter(output, WireJson.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, type);
            write(writer);
            writer.WriteEndObject();
        }

        output.Write(EventEnd);
    }

    /// <summary>
    /// An <c>error</c> event (<c>api_error</c> unless <paramref name="type"/> says otherwise), as its own event: the
    /// blank lines before it end whatever event a break cut short.
    /// </summary>
    public static byte[] Error(string message, string type = "api_error")
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write("\n\n"u8);
        Write(buffer, "error", w =>
        {
            w.WritePropertyName("error"u8);
            w.WriteStartObject();
            w.WriteString("type"u8, type);
            w.WriteString("message"u8, message);
            w.WriteEndObject();
        });
        return buffer.WrittenSpan.ToArray();
    }
}
