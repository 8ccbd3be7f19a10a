using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.GeminiToOpenAIChat;

/// <summary>
/// Every field of a Chat Completions answer (whole, or a stream's chunk) and what the Gemini side does with it: reads
/// it, or drops and reports it (<see cref="ExchangeOutcome.DroppedAnswerFields"/>). An answer cannot be refused (the
/// upstream has answered and billed), so what a Gemini answer has no place for is reported rather than left out
/// silently: the upstream's bookkeeping, counts Gemini's per-modality lists cannot hold, an audio answer the request
/// never asked for, and any other provider's extra, named. Zero counts and nulls ask for nothing and are not reported.
/// </summary>
internal static class ChatAnswerInventory
{
    private const string UnknownWhy = "The upstream's '{0}' has no place in a Gemini answer.";

    private static readonly FieldInventory Answer = BuildAnswer();

    /// <summary>Reports to <paramref name="outcome"/> each field of <paramref name="answer"/> the Gemini answer goes without.</summary>
    public static void Check(JsonElement answer, ExchangeOutcome outcome) => Answer.CheckAnswer(answer, outcome);

    private static FieldInventory Chat() => new(UnknownFieldPolicy.Drop, UnknownWhy);

    private static bool Counted(JsonElement value) => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var count) && count > 0;

    private static FieldInventory BuildAnswer()
    {
        // Gemini counts tokens per modality in lists that add up to their total; a Chat answer gives only the audio
        // part, and a list naming audio alone would say that only audio was read.
        const string ModalityWhy = "Gemini's usage breaks counts down in per-modality lists that this count alone cannot fill.";
        var usage = Chat()
            .Read("prompt_tokens", "completion_tokens", "total_tokens")
            .Read(Chat().Read("cached_tokens").Drop(ModalityWhy, Counted, "audio_tokens"), "prompt_tokens_details")
            .Read(
                Chat().Read("reasoning_tokens")
                    .Drop(ModalityWhy, Counted, "audio_tokens")
                    .Drop("Predicted outputs are OpenAI's; a Gemini request never asks for one.", Counted, "accepted_prediction_tokens", "rejected_prediction_tokens"),
                "completion_tokens_details");

        FieldInventory Message(bool streamed) => (streamed
                ? Chat().Drop("Citations in a streamed answer are not carried yet: a whole answer's become groundingMetadata.", null, "annotations")
                : Chat().Read("annotations"))
            .Read("role", "content", "refusal", "reasoning_content")
            .ReadList(Chat().Read("index", "id", "type", "function"), "tool_calls")
            .Drop("An audio answer, which a Gemini request on this route never asks for (responseModalities: AUDIO is refused).", null, "audio")
            .Drop("The deprecated single function call, which the gateway's requests (tools) never ask for.", null, "function_call");

        var choice = Chat()
            .Read("index", "finish_reason")
            .Read(Message(streamed: false), "message")
            .Read(Message(streamed: true), "delta")
            .Read(Chat().Read("content").Drop("Log probabilities of a refusal's tokens; Gemini's logprobsResult covers the answer's text.", null, "refusal"), "logprobs");

        return Chat()
            .Read("id", "object", "created", "model")
            .ReadList(choice, "choices")
            .Read(usage, "usage")

            // Padding OpenAI adds to stream chunks against length side channels: it carries nothing.
            .Read("obfuscation")
            .Drop("The upstream's bookkeeping, which a Gemini answer has no place for.", null, "system_fingerprint", "service_tier")
            .Freeze();
    }
}
