using System.Text;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.Tests.Sse;

/// <summary>
/// The usage of an untranslated stream, found while its bytes pass: whatever the framing (SSE or Gemini's JSON
/// array), however the reads split it, and without holding the stream.
/// </summary>
public sealed class StreamUsageScannerTests
{
    private const string GeminiSse =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Brace } and \\\" quote { [\"}],\"role\":\"model\"}}],\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":2,\"totalTokenCount\":9}}\r\n\r\n"
        + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" done\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":5,\"totalTokenCount\":15,\"thoughtsTokenCount\":3},\"modelVersion\":\"m\"}\r\n\r\n";

    private const string GeminiArray = """
        [{
          "candidates": [{"content": {"parts": [{"text": "usageMetadata"}], "role": "model"}}],
          "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 1, "totalTokenCount": 5}
        }
        ,
        {
          "candidates": [{"content": {"parts": [{"text": "]}"}], "role": "model"}, "finishReason": "STOP"}],
          "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "totalTokenCount": 6}
        }
        ]
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100_000)]
    public void GeminiSse_AnySplitOfTheReads_GivesTheLastCumulativeUsage(int readSize)
    {
        using var scanner = Scan(GeminiVocabulary.UsageDialect, GeminiSse, readSize);

        // Gemini counts thoughts apart; OpenAI counts them in the output.
        Assert.Equal(new TokenUsage(7, 8, 15, 3, 0), scanner.Read());
        Assert.False(scanner.LooksIncomplete());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(100_000)]
    public void GeminiJsonArray_PrettyPrinted_GivesTheLastUsageAndNotTheWordInTheText(int readSize)
    {
        using var scanner = Scan(GeminiVocabulary.UsageDialect, GeminiArray, readSize);

        Assert.Equal(new TokenUsage(4, 2, 6, 0, 0), scanner.Read());
        Assert.False(scanner.LooksIncomplete());
    }

    [Fact]
    public void GeminiStream_CutInsideAnObject_IsIncompleteAndKeepsTheUsageSeenSoFar()
    {
        var cut = GeminiSse[..(GeminiSse.IndexOf("finishReason", StringComparison.Ordinal) + 20)];

        using var scanner = Scan(GeminiVocabulary.UsageDialect, cut, 5);

        Assert.True(scanner.LooksIncomplete());
        Assert.Equal(new TokenUsage(7, 2, 9, 0, 0), scanner.Read());
    }

    [Fact]
    public void GeminiStream_EndingInAnErrorObject_IsIncomplete()
    {
        var stream = GeminiSse + "data: {\"error\":{\"code\":503,\"message\":\"overloaded\",\"status\":\"UNAVAILABLE\"}}\r\n\r\n";

        using var scanner = Scan(GeminiVocabulary.UsageDialect, stream, 64);

        Assert.True(scanner.LooksIncomplete());
    }

    [Fact]
    public void GeminiStream_WithTheWordErrorInItsContent_IsComplete()
    {
        var stream = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"report\",\"args\":{\"status\":\"error\"}}}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":1,\"candidatesTokenCount\":1,\"totalTokenCount\":2}}\r\n\r\n";

        using var scanner = Scan(GeminiVocabulary.UsageDialect, stream, 10);

        Assert.False(scanner.LooksIncomplete());
    }

    [Fact]
    public void GeminiStream_WithoutAFinishReason_IsIncomplete()
    {
        using var scanner = Scan(GeminiVocabulary.UsageDialect, GeminiSse[..(GeminiSse.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)], 64);

        Assert.True(scanner.LooksIncomplete());
        Assert.Equal(new TokenUsage(7, 2, 9, 0, 0), scanner.Read());
    }

    [Fact]
    public void GeminiChunk_OfSeveralMegabytes_IsReadFromItsEndWithoutKeepingItWhole()
    {
        // An image model's chunk: megabytes of base64 before the usage. Only the object's last 16 KB are kept.
        var image = new string('A', 3 * 1024 * 1024);
        var stream = $"data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"inlineData\":{{\"mimeType\":\"image/png\",\"data\":\"{image}\"}}}}]}},\"finishReason\":\"STOP\"}}],\"usageMetadata\":{{\"promptTokenCount\":10,\"candidatesTokenCount\":1290,\"totalTokenCount\":1300}}}}\r\n\r\n";

        using var scanner = Scan(GeminiVocabulary.UsageDialect, stream, 65_536);

        Assert.Equal(new TokenUsage(10, 1290, 1300, 0, 0), scanner.Read());
        Assert.False(scanner.LooksIncomplete());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(1_000_000)]
    public void GeminiFinalChunk_FinishReasonBeforeLongGrounding_IsCompleteHoweverItIsSplit(int readSize)
    {
        // Gemini writes finishReason before groundingMetadata, which search results can make longer than what is kept.
        var grounding = string.Join(",", Enumerable.Range(0, 400).Select(i => $"{{\"web\":{{\"uri\":\"https://example.com/{i}/{new string('x', 60)}\",\"title\":\"t{i}\"}}}}"));
        var stream = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"finishReason\":\"STOP\",\"groundingMetadata\":{\"groundingChunks\":[" + grounding
            + "]}}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":1,\"totalTokenCount\":4}}\r\n\r\n";
        Assert.True(stream.Length > 2 * StreamUsageScanner.TailBytes);

        using var scanner = Scan(GeminiVocabulary.UsageDialect, stream, readSize);

        Assert.False(scanner.LooksIncomplete());
        Assert.Equal(new TokenUsage(3, 1, 4, 0, 0), scanner.Read());
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(3_333)]
    [InlineData(5_000)]
    public void GeminiChunk_LongerThanWhatIsKept_ReadInSmallPieces_KeepsItsEnd(int readSize)
    {
        // Pieces smaller than the kept tail: the buffer slides, keeping the newest bytes.
        var text = new string('y', 100_000);
        var stream = $"data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"{text}\"}}]}},\"finishReason\":\"STOP\"}}],\"usageMetadata\":{{\"promptTokenCount\":2,\"candidatesTokenCount\":25000,\"totalTokenCount\":25002}}}}\r\n\r\n";

        using var scanner = Scan(GeminiVocabulary.UsageDialect, stream, readSize);

        Assert.Equal(new TokenUsage(2, 25_000, 25_002, 0, 0), scanner.Read());
        Assert.False(scanner.LooksIncomplete());
    }

    [Theory]
    [InlineData("\"usageMetadata\":{}")]
    [InlineData("\"usageMetadata\":{\"trafficType\":\"ON_DEMAND\"}")]
    [InlineData("\"usageMetadata\":{\"promptTokenCount\":1.5}")]
    public void GeminiLastChunk_WithAUsageThatHasNoCounts_KeepsTheUsageReadBefore(string lastUsage)
    {
        var stream = GeminiSse[..(GeminiSse.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)]
            + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"f\",\"args\":{\"usageMetadata\":{\"note\":\"x\"}}}}]},\"finishReason\":\"STOP\"}]," + lastUsage + "}\r\n\r\n";

        using var scanner = Scan(GeminiVocabulary.UsageDialect, stream, 17);

        Assert.Equal(new TokenUsage(7, 2, 9, 0, 0), scanner.Read());
    }

    [Theory]
    [InlineData(": keep-alive {\r\n\r\n")]
    [InlineData("event: x{\r\n\r\n")]
    [InlineData("data: hello {\r\n\r\n")]
    [InlineData("id: {\"not\":\"data\"}\r\n\r\n")]
    public void SseStream_WithBracesOutsideAnyDataObject_StillGivesTheUsageAndCompletes(string stray)
    {
        using var scanner = Scan(GeminiVocabulary.UsageDialect, stray + GeminiSse, 5);

        Assert.Equal(new TokenUsage(7, 8, 15, 3, 0), scanner.Read());
        Assert.False(scanner.LooksIncomplete());
    }

    [Theory]
    [InlineData("data: {\"a\":\"unterminated}\r\n\r\n")]
    [InlineData("data: {\"a\":{\"b\":1}\r\n\r\n")]
    [InlineData("data: {\"a\":\"escape at the end \\\r\n\r\n")]
    public void SseStream_WithAMalformedEvent_LosesOnlyThatEventButIsIncomplete(string malformed)
    {
        using var scanner = Scan(GeminiVocabulary.UsageDialect, malformed + GeminiSse, 3);

        Assert.Equal(new TokenUsage(7, 8, 15, 3, 0), scanner.Read());
        Assert.True(scanner.LooksIncomplete());
    }

    [Fact]
    public void OpenAIStream_NullUsageOnEveryChunk_GivesTheFinalUsageChunk()
    {
        var stream =
            "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n"
            + "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
            + "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5,\"completion_tokens_details\":{\"reasoning_tokens\":1}}}\n\n"
            + "data: [DONE]\n\n";

        using var scanner = Scan(OpenAIChatVocabulary.UsageDialect, stream, 9);

        Assert.Equal(new TokenUsage(3, 2, 5, 1, 0), scanner.Read());
        Assert.False(scanner.LooksIncomplete());
    }

    [Fact]
    public void Stream_WithNoUsage_ReadsNull()
    {
        using var scanner = Scan(GeminiVocabulary.UsageDialect, "data: {\"candidates\":[{\"finishReason\":\"STOP\"}]}\r\n\r\n", 3);

        Assert.Null(scanner.Read());
    }

    private static StreamUsageScanner Scan(StreamUsageDialect protocol, string stream, int readSize)
    {
        var bytes = Encoding.UTF8.GetBytes(stream);
        var scanner = new StreamUsageScanner(protocol);
        for (var offset = 0; offset < bytes.Length; offset += readSize)
        {
            scanner.Append(bytes.AsSpan(offset, Math.Min(readSize, bytes.Length - offset)));
        }

        return scanner;
    }
}
