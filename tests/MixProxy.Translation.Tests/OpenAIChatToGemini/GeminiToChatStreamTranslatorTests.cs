using System.Buffers;
using MixProxy.Translation.OpenAIChatToGemini;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.OpenAIChatToGemini;

/// <summary>Gemini SSE events → OpenAI chunks, beyond what the golden streams show.</summary>
public sealed class GeminiToChatStreamTranslatorTests
{
    [Fact]
    public void StreamTranslator_RecordsTheLastCumulativeUsage()
    {
        var outcome = new ExchangeOutcome();
        var translator = new GeminiToChatStreamTranslator(new ResponseContext { ClientModel = "gemini-3.1-pro-preview", Created = 1_700_000_000 }, outcome);
        var output = new ArrayBufferWriter<byte>();

        translator.TranslateEvent("""{"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}}"""u8, output);
        translator.TranslateEvent("""{"usageMetadata":{"trafficType":"ON_DEMAND"}}"""u8, output);
        translator.TranslateEvent("""{"candidates":[{"content":{"parts":[{"text":"b"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5}}"""u8, output);

        Assert.Equal(new TokenUsage(3, 2, 5, 0, 0), outcome.Usage);
    }
}
