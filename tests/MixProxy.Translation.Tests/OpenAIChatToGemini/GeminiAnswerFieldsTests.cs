using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.OpenAIChatToGemini;

/// <summary>
/// A Gemini answer to an OpenAI client: every field is read (into Chat's fields or Google's vendor field) or dropped
/// and reported in the exchange's outcome, named in Gemini's notation, once however many events carried it: Vertex's
/// bookkeeping, grounding from sources other than the web, and fields newer than the gateway.
/// </summary>
public sealed class GeminiAnswerFieldsTests
{
    private const string Pair = "openai-chat-to-gemini";
    private static readonly UpstreamModelProfile Gemini = new() { UpstreamModel = "gemini-x" };

    private static ExchangeCall Begin(bool stream) =>
        ExchangeHarness.Begin(Pair, ExchangeHarness.MinimalRequest(Pair, stream), Gemini);

    [Fact]
    public void WholeAnswer_FieldsWithoutAChatPlace_AreReported()
    {
        var call = Begin(stream: false);

        ExchangeHarness.TranslateResponse(call, """
            {"createTime":"2026-12-02T12:00:00Z","responseId":"r1","modelVersion":"gemini-x","modelStatus":{"modelStage":"PREVIEW"},
             "candidates":[{"index":0,"finishReason":"STOP","content":{"role":"model","parts":[{"text":"Hi","thoughtSignature":"c2ln"},{"videoMetadata":{"fps":1}}]},
               "groundingMetadata":{"groundingChunks":[{"web":{"uri":"https://a.example","title":"a"}},{"retrievedContext":{"uri":"gs://b","title":"b"}}]}}],
             "usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4,"trafficType":"ON_DEMAND"}}
            """);

        Assert.Equal(
            ["createTime", "modelStatus", "candidates[].content.parts[].videoMetadata", "candidates[].groundingMetadata.groundingChunks[].retrievedContext", "usageMetadata.trafficType"],
            call.Outcome.DroppedAnswerFields);
    }

    [Fact]
    public void AnswerOfMappedFields_ReportsNothing()
    {
        var call = Begin(stream: false);

        ExchangeHarness.TranslateResponse(call, """
            {"responseId":"r1","modelVersion":"gemini-x","promptFeedback":{"safetyRatings":[]},
             "candidates":[{"index":0,"finishReason":"STOP","finishMessage":"ok","tokenCount":1,"avgLogprobs":-0.1,"safetyRatings":[],
               "content":{"role":"model","parts":[{"text":"Hi"},{"executableCode":{"language":"PYTHON","code":"1"}},{"codeExecutionResult":{"outcome":"OUTCOME_OK"}}]},
               "groundingMetadata":{"webSearchQueries":["q"],"searchEntryPoint":{"renderedContent":"<div/>"},"groundingChunks":[{"web":{"uri":"https://a.example"}}],"groundingSupports":[]},
               "urlContextMetadata":{"urlMetadata":[]}}],
             "usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4,"promptTokensDetails":[{"modality":"TEXT","tokenCount":3}]}}
            """);

        Assert.Empty(call.Outcome.DroppedAnswerFields);
    }

    [Fact]
    public async Task Stream_FieldsWithoutAChatPlace_AreReportedOnce()
    {
        var call = Begin(stream: true);

        await ExchangeHarness.TranslateStreamAsync(call, """
            data: {"createTime":"2026-12-02T12:00:00Z","candidates":[{"index":0,"content":{"role":"model","parts":[{"text":"Hi"}]}}],"usageMetadata":{"promptTokenCount":3,"totalTokenCount":3,"trafficType":"ON_DEMAND"}}

            data: {"createTime":"2026-12-02T12:00:00Z","candidates":[{"index":0,"finishReason":"STOP","content":{"role":"model","parts":[{"text":"!"}]}}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5,"trafficType":"ON_DEMAND"}}


            """, TestContext.Current.CancellationToken);

        Assert.Equal(["createTime", "usageMetadata.trafficType"], call.Outcome.DroppedAnswerFields);
    }
}
