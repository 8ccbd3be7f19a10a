using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using MixProxy.Translation.OpenAIChatToGemini;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.Tests.Sse;

/// <summary>
/// The pull-based SSE translation stream: whole events whatever the reads look like, no output buffer held while it
/// waits for the upstream, the translator's faults and time recorded in the exchange's outcome, and an upstream that
/// breaks off: thrown while the client has nothing yet, an error event once it has part of the answer.
/// </summary>
public sealed class TranslatingSseStreamTests
{
    private static ResponseContext Context() => new() { ClientModel = "gemini-3.1-pro-preview", Created = 1_700_000_000 };

    [Fact]
    public async Task TranslatingSseStream_SplitsAcrossTinyReads_StillYieldsWholeEvents()
    {
        // The upstream delivers bytes one at a time: JSON and the CRLF delimiter split across reads.
        var sse = "data: {\"responseId\":\"s\",\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"h\u00e9\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n";
        using var upstream = new TrickleStream(Encoding.UTF8.GetBytes(sse));
        await using var translated = new TranslatingSseStream(upstream, new GeminiToChatStreamTranslator(Context(), new ExchangeOutcome()), new ExchangeOutcome(), TestContext.Current.CancellationToken);
        using var reader = new StreamReader(translated, Encoding.UTF8);

        var events = GoldenCase.SseData(await reader.ReadToEndAsync(TestContext.Current.CancellationToken));

        Assert.Equal(["hé", null, "[DONE]"], events.Select(e => e == "[DONE]" ? e : JsonNode.Parse(e)!["choices"]![0]!["delta"]!["content"]?.GetValue<string>()));
    }

    [Fact]
    public async Task TranslatingSseStream_EventsLargerThanItsBuffer_ReachTheClientWholeThroughSmallAndEmptyReads()
    {
        // Events of 10 bytes to 40 KB: the output buffer is rented per event, grows past its 4 KB start, and is handed
        // back between events. YARP's copier asks with a zero-byte read before each real one.
        var sizes = new[] { 10, 5_000, 3, 40_000, 4_096, 1 };
        var sse = string.Concat(sizes.Select((size, i) => $"data: {i}:{size}\n\n"));
        using var upstream = new MemoryStream(Encoding.UTF8.GetBytes(sse));
        await using var translated = new TranslatingSseStream(upstream, new RepeatingTranslator(), new ExchangeOutcome(), TestContext.Current.CancellationToken);

        var received = new MemoryStream();
        var buffer = new byte[777];
        while (true)
        {
            Assert.Equal(0, await translated.ReadAsync(Memory<byte>.Empty, TestContext.Current.CancellationToken));
            var read = await translated.ReadAsync(buffer, TestContext.Current.CancellationToken);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        var expected = string.Concat(sizes.Select((size, i) => new string((char)('a' + i), size))) + "end";
        Assert.Equal(expected, Encoding.ASCII.GetString(received.ToArray()));
    }

    [Fact]
    public async Task TranslatingSseStream_WaitingForTheNextEvent_HoldsNoOutputBuffer()
    {
        // A thousand open streams mostly wait: none of them may keep an output buffer while it does.
        var upstream = new ChunkStream();
        await using var translated = new TranslatingSseStream(upstream, new RepeatingTranslator(), new ExchangeOutcome(), TestContext.Current.CancellationToken);
        var buffer = new byte[100];

        upstream.Send("data: 0:250\n\n");
        var received = 0;
        while (received < 250)
        {
            received += await translated.ReadAsync(buffer, TestContext.Current.CancellationToken);
        }

        var waiting = translated.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask();
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);
        Assert.False(translated.HoldsOutputBuffer);

        upstream.Send("data: 1:3\n\n");
        Assert.Equal(3, await waiting.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        upstream.End();
        Assert.Equal(3, await translated.ReadAsync(buffer, TestContext.Current.CancellationToken)); // "end"
        Assert.Equal(0, await translated.ReadAsync(buffer, TestContext.Current.CancellationToken));
        Assert.False(translated.HoldsOutputBuffer);
    }

    [Fact]
    public async Task TranslatingSseStream_TranslatorFailsAtTheEnd_TakesBackItsHalfWrittenOutput_WritesItsFault_AndRecordsIt()
    {
        var outcome = new ExchangeOutcome();
        using var upstream = new MemoryStream(Encoding.UTF8.GetBytes("data: 0:2\n\n"));
        await using var translated = new TranslatingSseStream(upstream, new RepeatingTranslator { ThrowOnComplete = true }, outcome, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(translated, Encoding.ASCII);

        Assert.Equal("aafault", await reader.ReadToEndAsync(TestContext.Current.CancellationToken));
        Assert.IsType<InvalidOperationException>(outcome.TranslationFault);
        Assert.True(outcome.Faulted);
    }

    [Fact]
    public async Task TranslatingSseStream_UpstreamBreaksOffAfterTwoEvents_HandsOutBothThenTheUpstreamFaultAndEnds()
    {
        var outcome = new ExchangeOutcome();
        var broken = new IOException("Connection reset by peer.");
        using var upstream = new BreakingUpstream("data: 0:2\n\ndata: 1:3\n\n", broken);
        await using var translated = new TranslatingSseStream(upstream, new RepeatingTranslator(), outcome, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(translated, Encoding.ASCII);

        Assert.Equal("aabbbupstream-fault", await reader.ReadToEndAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await translated.ReadAsync(new byte[16], TestContext.Current.CancellationToken));
        Assert.Same(broken, outcome.UpstreamFault);
        Assert.Null(outcome.TranslationFault);
        Assert.True(outcome.Faulted);
    }

    [Fact]
    public async Task TranslatingSseStream_UpstreamBreaksOffBeforeItsFirstEvent_TheReadThrowsAndNothingIsWritten()
    {
        // Nothing reached the client yet: the failure goes on up, so the gateway can still retry or answer with a status.
        var outcome = new ExchangeOutcome();
        using var upstream = new BreakingUpstream("", new IOException("Connection refused mid-response."));
        await using var translated = new TranslatingSseStream(upstream, new RepeatingTranslator(), outcome, TestContext.Current.CancellationToken);

        await Assert.ThrowsAsync<IOException>(() => translated.ReadAsync(new byte[16], TestContext.Current.CancellationToken).AsTask());
        Assert.Equal(0, outcome.TranslatedBytes);
        Assert.Null(outcome.UpstreamFault);
        Assert.False(outcome.Faulted);
    }

    [Fact]
    public async Task TranslatingSseStream_UpstreamBreaksOffAfterEventsThatGaveTheClientNothing_TheReadStillThrows()
    {
        // Two events that translate to nothing (as a dropped usage chunk does): the client has no byte, so a retry is still possible.
        var outcome = new ExchangeOutcome();
        using var upstream = new BreakingUpstream("data: 0:0\n\ndata: 1:0\n\n", new HttpRequestException("The response ended prematurely."));
        await using var translated = new TranslatingSseStream(upstream, new RepeatingTranslator(), outcome, TestContext.Current.CancellationToken);

        await Assert.ThrowsAsync<HttpRequestException>(() => translated.ReadAsync(new byte[16], TestContext.Current.CancellationToken).AsTask());
        Assert.Null(outcome.UpstreamFault);
    }

    [Fact]
    public async Task TranslatingSseStream_ClientLeavesWhileWaitingForTheUpstream_TheReadIsCancelled()
    {
        var outcome = new ExchangeOutcome();
        var upstream = new ChunkStream();
        await using var translated = new TranslatingSseStream(upstream, new RepeatingTranslator(), outcome, TestContext.Current.CancellationToken);
        var buffer = new byte[16];
        upstream.Send("data: 0:2\n\n");
        Assert.Equal(2, await translated.ReadAsync(buffer, TestContext.Current.CancellationToken));

        using var clientLeft = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var waiting = translated.ReadAsync(buffer, clientLeft.Token).AsTask();
        await clientLeft.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Null(outcome.UpstreamFault);
    }

    [Fact]
    public async Task TranslatingSseStream_UpstreamReadFailsBecauseTheClientLeft_TheFailureGoesOnUpAsIs()
    {
        // Cancelling can tear the upstream connection down, so the read fails with an IOException: still the client
        // leaving (or a timeout), not the upstream breaking off, so no error event and no upstream fault.
        var outcome = new ExchangeOutcome();
        var torn = new IOException("The connection was closed because the request was cancelled.");
        using var upstream = new BreakingUpstream("data: 0:2\n\n", torn) { BreaksOnlyWhenCancelled = true };
        await using var translated = new TranslatingSseStream(upstream, new RepeatingTranslator(), outcome, TestContext.Current.CancellationToken);
        var buffer = new byte[16];
        Assert.Equal(2, await translated.ReadAsync(buffer, TestContext.Current.CancellationToken));

        using var clientLeft = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var waiting = translated.ReadAsync(buffer, clientLeft.Token).AsTask();
        await clientLeft.CancelAsync();

        Assert.Same(torn, await Assert.ThrowsAsync<IOException>(() => waiting));
        Assert.Null(outcome.UpstreamFault);
    }

    /// <summary>Turns the event "i:n" into n copies of the i-th letter, written in pieces of up to 3,000 bytes.</summary>
    private sealed class RepeatingTranslator : IStreamEventTranslator
    {
        public bool IsEnded { get; private set; }

        public bool Faulted => false;

        public void TranslateEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
        {
            var text = Encoding.ASCII.GetString(data);
            var letter = (byte)('a' + int.Parse(text[..text.IndexOf(':')], System.Globalization.CultureInfo.InvariantCulture));
            for (var left = int.Parse(text[(text.IndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture); left > 0;)
            {
                var piece = Math.Min(left, 3_000);
                output.GetSpan(piece)[..piece].Fill(letter);
                output.Advance(piece);
                left -= piece;
            }
        }

        public void Complete(IBufferWriter<byte> output)
        {
            if (ThrowOnComplete)
            {
                "half"u8.CopyTo(output.GetSpan(4));
                output.Advance(4);
                throw new InvalidOperationException("A planted bug at the end of the stream.");
            }

            "end"u8.CopyTo(output.GetSpan(3));
            output.Advance(3);
            IsEnded = true;
        }

        public bool ThrowOnComplete { get; init; }

        public void WriteFault(IBufferWriter<byte> output, StreamFault fault)
        {
            var text = fault == StreamFault.Upstream ? "upstream-fault"u8 : "fault"u8;
            text.CopyTo(output.GetSpan(text.Length));
            output.Advance(text.Length);
            IsEnded = true;
        }
    }

    /// <summary>An upstream body the test feeds piece by piece; a read waits until the next piece is sent.</summary>
    private sealed class ChunkStream : Stream
    {
        private readonly Channel<byte[]> _pieces = Channel.CreateUnbounded<byte[]>();
        private ReadOnlyMemory<byte> _current;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Send(string text) => _pieces.Writer.TryWrite(Encoding.UTF8.GetBytes(text));

        public void End() => _pieces.Writer.TryComplete();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_current.IsEmpty)
            {
                if (!await _pieces.Reader.WaitToReadAsync(cancellationToken))
                {
                    return 0;
                }

                _current = await _pieces.Reader.ReadAsync(cancellationToken);
            }

            var count = Math.Min(buffer.Length, _current.Length);
            _current[..count].CopyTo(buffer);
            _current = _current[count..];
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A stream that hands out one byte per read, like a slow network.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }
}
