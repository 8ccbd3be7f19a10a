using System.Buffers;
using System.Threading.Channels;
using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Translation.Errors;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Streaming;

namespace MixProxy.Translation.Tests;

/// <summary>
/// Gemini → OpenAI, for whole responses (<c>Golden/response</c>), SSE streams (<c>Golden/stream</c>: <c>input.sse</c>
/// as the upstream sent it, <c>expected.sse</c> as the client must see it) and upstream errors (<c>Golden/error</c>).
/// The client asked for model <c>gemini-3.1-pro-preview</c> at unix time 1700000000.
/// </summary>
public sealed class ResponseTranslationTests
{
    private static ResponseContext Context(bool includeUsage = false) => new()
    {
        ClientModel = "gemini-3.1-pro-preview",
        Created = 1_700_000_000,
        IncludeUsage = includeUsage,
    };

    public static TheoryData<string> ResponseCases => GoldenCase.Cases("response");

    public static TheoryData<string> StreamCases => GoldenCase.Cases("stream");

    public static TheoryData<string> ErrorCases => GoldenCase.Cases("error");

    [Theory]
    [MemberData(nameof(ResponseCases))]
    public void Translate_GoldenResponse_MatchesExpectedChatCompletion(string name)
    {
        var input = Encoding.UTF8.GetBytes(GoldenCase.Read("response", name, "input.json"));
        var output = new ArrayBufferWriter<byte>();

        GeminiToChatResponseTranslator.Translate(input, Context(), output);

        GoldenCase.AssertJsonMatches(GoldenCase.ReadJson("response", name, "expected.json"), JsonNode.Parse(output.WrittenSpan));
    }

    [Theory]
    [MemberData(nameof(StreamCases))]
    public async Task Translate_GoldenStream_MatchesExpectedChunksEventByEvent(string name)
    {
        var includeUsage = GoldenCase.ReadJson("stream", name, "options.json")["IncludeUsage"]!.GetValue<bool>();
        var sink = new UsageSink();
        var translator = new GeminiToChatStreamTranslator(Context(includeUsage), sink);
        using var upstream = new MemoryStream(Encoding.UTF8.GetBytes(GoldenCase.Read("stream", name, "input.sse")));
        await using var translated = new TranslatingSseStream(upstream, translator, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(translated, Encoding.UTF8);

        var actual = GoldenCase.SseData(await reader.ReadToEndAsync(TestContext.Current.CancellationToken));
        var expected = GoldenCase.SseData(GoldenCase.Read("stream", name, "expected.sse"));

        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            if (expected[i] == "[DONE]")
            {
                Assert.Equal("[DONE]", actual[i]);
                continue;
            }

            GoldenCase.AssertJsonMatches(JsonNode.Parse(expected[i]), JsonNode.Parse(actual[i]), $"event[{i}]");
        }

        // Chunk ids are stable for the whole stream, and [DONE] comes at most once, last.
        Assert.Single(actual.Select(a => a == "[DONE]" ? null : JsonNode.Parse(a)!["id"]?.GetValue<string>()).Where(id => id is not null).Distinct());
        Assert.True(actual.Count(a => a == "[DONE]") <= 1 && (!actual.Contains("[DONE]") || actual[^1] == "[DONE]"));
    }

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public void ToOpenAI_GoldenUpstreamError_MapsStatusBodyAndRetryAfter(string name)
    {
        var input = GoldenCase.ReadJson("error", name, "input.json");
        var body = input["body"] is { } json ? json.ToJsonString() : input["text"]!.GetValue<string>();
        var expected = GoldenCase.ReadJson("error", name, "expected.json");

        var error = GeminiErrorTranslator.ToOpenAI(input["status"]!.GetValue<int>(), Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected["status"]!.GetValue<int>(), error.StatusCode);
        GoldenCase.AssertJsonMatches(expected["body"], JsonNode.Parse(error.Body));
        Assert.Equal(expected["retryAfterSeconds"]?.GetValue<int>(), error.RetryAfter is { } r ? (int)r.TotalSeconds : null);
    }

    [Fact]
    public async Task TranslatingSseStream_SplitsAcrossTinyReads_StillYieldsWholeEvents()
    {
        // The upstream delivers bytes one at a time: JSON and the CRLF delimiter split across reads.
        var sse = "data: {\"responseId\":\"s\",\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"h\u00e9\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n";
        using var upstream = new TrickleStream(Encoding.UTF8.GetBytes(sse));
        await using var translated = new TranslatingSseStream(upstream, new GeminiToChatStreamTranslator(Context()), TestContext.Current.CancellationToken);
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
        await using var translated = new TranslatingSseStream(upstream, new RepeatingTranslator(), TestContext.Current.CancellationToken);

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
        await using var translated = new TranslatingSseStream(upstream, new RepeatingTranslator(), TestContext.Current.CancellationToken);
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
    public void StreamTranslator_RecordsTheLastCumulativeUsage()
    {
        var sink = new UsageSink();
        var translator = new GeminiToChatStreamTranslator(Context(), sink);
        var output = new ArrayBufferWriter<byte>();

        translator.TranslateEvent("""{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}}"""u8, output);
        translator.TranslateEvent("""{"usageMetadata":{"trafficType":"ON_DEMAND"}}"""u8, output);
        translator.TranslateEvent("""{"candidates":[{"content":{"parts":[{"text":"b"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5}}"""u8, output);

        Assert.Equal(new TokenUsage(3, 2, 5, 0, 0), sink.Usage);
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
            "end"u8.CopyTo(output.GetSpan(3));
            output.Advance(3);
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
