using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>
/// Every field of a Gemini answer (whole, or a stream's event) and what the Chat side does with it: reads it (into a
/// Chat field or Google's vendor field <c>extra_content.google</c>), or drops and reports it
/// (<see cref="ExchangeOutcome.DroppedAnswerFields"/>): Vertex's bookkeeping, grounding from sources other than the
/// web, and any field newer than this list, named, so that nothing Gemini says is left out silently.
/// </summary>
internal static class GeminiAnswerInventory
{
    private const string UnknownWhy = "Gemini's '{0}' has no place in a Chat Completions answer yet.";

    private static readonly FieldInventory Answer = BuildAnswer();

    /// <summary>Reports to <paramref name="outcome"/> each field of <paramref name="answer"/> the Chat answer goes without.</summary>
    public static void Check(JsonElement answer, ExchangeOutcome outcome) => Answer.CheckAnswer(answer, outcome);

    private static FieldInventory Gemini() => new(UnknownFieldPolicy.Drop, UnknownWhy);

    private static FieldInventory BuildAnswer()
    {
        // A signature on a part other than a call is not carried: Gemini validates only call signatures (docs/translation.md).
        var part = Gemini()
            .Read("text", "thought", "thoughtSignature", "functionCall", "inlineData", "executableCode", "codeExecutionResult");
        var content = Gemini().Read("role").ReadList(part, "parts");

        // Citations come from web sources; a chunk from a retrieval store or from Maps has no url_citation to become.
        var chunk = Gemini().Read("web").Drop("A grounding source other than the web, which Chat's url_citation cannot name.", null, "retrievedContext", "maps");
        var grounding = Gemini()
            .Read("webSearchQueries", "searchEntryPoint", "groundingSupports", "retrievalMetadata")
            .ReadList(chunk, "groundingChunks");
        var candidate = Gemini()
            .Read("index", "finishReason", "finishMessage", "safetyRatings", "citationMetadata", "tokenCount", "groundingAttributions",
                "avgLogprobs", "logprobsResult", "urlContextMetadata")
            .Read(content, "content")
            .Read(grounding, "groundingMetadata");

        // Counts and their per-modality lists are mapped; Vertex adds how the request was billed.
        var usage = Gemini()
            .Read("promptTokenCount", "cachedContentTokenCount", "candidatesTokenCount", "toolUsePromptTokenCount", "thoughtsTokenCount", "totalTokenCount",
                "promptTokensDetails", "cacheTokensDetails", "candidatesTokensDetails", "toolUsePromptTokensDetails")
            .Drop("Vertex's billing class of the request, which Chat's usage has no place for.", null, "trafficType");

        return Gemini()
            .ReadList(candidate, "candidates")
            .Read("promptFeedback", "modelVersion", "responseId")
            .Read(usage, "usageMetadata")
            .Drop("Vertex's time of the answer; Chat's created is the gateway's.", null, "createTime")
            .Freeze();
    }
}
