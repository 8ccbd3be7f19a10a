using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace MixProxy.Soak;

/// <summary>
/// Middleware on the simulator that keeps a copy of each response body and adds up the usage the upstream reported in
/// it: the last <c>total_tokens</c> (OpenAI: a response, a stream's usage chunk, a Responses usage) or
/// <c>totalTokenCount</c> (Gemini: cumulative in every chunk, so the last one counts). What the gateway settles and
/// reports in its metrics is compared against this sum.
/// </summary>
internal sealed partial class UsageTap
{
    private long _tokens;
    private long _responses;

    public long Tokens => Interlocked.Read(ref _tokens);

    public long ResponsesWithUsage => Interlocked.Read(ref _responses);

    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var original = context.Response.Body;
        using var copy = new MemoryStream();
        context.Response.Body = new TeeStream(original, copy);
        try
        {
            await next();
        }
        finally
        {
            context.Response.Body = original;
            if (context.Response.StatusCode == 200 && LastTotal(Encoding.UTF8.GetString(copy.GetBuffer(), 0, (int)copy.Length)) is { } total)
            {
                Interlocked.Add(ref _tokens, total);
                Interlocked.Increment(ref _responses);
            }
        }
    }

    public static long? LastTotal(string body)
    {
        var matches = TotalPattern().Matches(body);
        return matches.Count == 0 ? null : long.Parse(matches[^1].Groups[1].Value);
    }

    [GeneratedRegex("\"(?:total_tokens|totalTokenCount)\"\\s*:\\s*(\\d+)")]
    private static partial Regex TotalPattern();

    /// <summary>
    /// What an Anthropic Messages client saw: Anthropic reports no total, so the last input (with what was read from
    /// the cache) plus the last output; a stream's final counts are in its last <c>message_delta</c>.
    /// </summary>
    public static long? LastAnthropicTotal(string body)
    {
        long? Last(Regex pattern) => pattern.Matches(body) is { Count: > 0 } found ? long.Parse(found[^1].Groups[1].Value) : null;
        var output = Last(OutputPattern());
        return output is null ? null : (Last(InputPattern()) ?? 0) + (Last(CacheReadPattern()) ?? 0) + output;
    }

    [GeneratedRegex("\"input_tokens\"\\s*:\\s*(\\d+)")]
    private static partial Regex InputPattern();

    [GeneratedRegex("\"cache_read_input_tokens\"\\s*:\\s*(\\d+)")]
    private static partial Regex CacheReadPattern();

    [GeneratedRegex("\"output_tokens\"\\s*:\\s*(\\d+)")]
    private static partial Regex OutputPattern();

    /// <summary>Writes through to the real body and to a copy.</summary>
    private sealed class TeeStream(Stream inner, Stream copy) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            copy.Write(buffer, offset, count);
            inner.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            copy.Write(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
