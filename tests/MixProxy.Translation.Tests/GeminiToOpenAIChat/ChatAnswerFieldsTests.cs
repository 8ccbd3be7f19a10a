using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.GeminiToOpenAIChat;

/// <summary>
/// A Chat Completions answer to a Gemini client: what a Gemini answer has no place for (the upstream's bookkeeping,
/// counts Gemini's per-modality lists cannot hold, an audio answer, another provider's extras) is dropped and reported
/// in the exchange's outcome, named in the upstream's notation, once per field however many chunks carried it; zero
/// counts, nulls and OpenAI's stream padding carry nothing and are not reported.
/// </summary>
public sealed class ChatAnswerFieldsTests
{
    private const string Pair = "gemini-to-openai-chat";
    private static readonly UpstreamModelProfile Chat = new() { UpstreamModel = "gpt-x" };

    private static ExchangeCall Begin(bool stream) =>
        ExchangeHarness.Begin(Pair, ExchangeHarness.MinimalRequest(Pair, stream), Chat);

    [Fact]
    public void WholeAnswer_FieldsWithoutAGeminiPlace_AreReported()
    {
        var call = Begin(stream: false);

        ExchangeHarness.TranslateResponse(call, """
            {"id":"c1","object":"chat.completion","created":1,"model":"gpt-x","system_fingerprint":"fp_1","service_tier":"default",
             "choices":[{"index":0,"finish_reason":"stop","native_finish_reason":"end_turn","logprobs":null,
               "message":{"role":"assistant","content":"Hi","refusal":null,"annotations":[],"audio":{"id":"a","data":"AAE=","expires_at":1,"transcript":"Hi"}}}],
             "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,
               "prompt_tokens_details":{"cached_tokens":0,"audio_tokens":2},
               "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0},
               "cost":0.0001}}
            """);

        Assert.Equal(
            ["system_fingerprint", "service_tier", "choices[].native_finish_reason", "choices[].message.audio", "usage.prompt_tokens_details.audio_tokens", "usage.cost"],
            call.Outcome.DroppedAnswerFields);
    }

    [Fact]
    public void PlainAnswer_ReportsNothing()
    {
        var call = Begin(stream: false);

        ExchangeHarness.TranslateResponse(call, """
            {"id":"c1","object":"chat.completion","created":1,"model":"gpt-x","system_fingerprint":null,
             "choices":[{"index":0,"finish_reason":"stop","logprobs":null,"message":{"role":"assistant","content":"Hi","refusal":null,"audio":null}}],
             "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0}}}
            """);

        Assert.Empty(call.Outcome.DroppedAnswerFields);
    }

    [Fact]
    public async Task Stream_FieldsWithoutAGeminiPlace_AreReportedOnce_PaddingIsNot()
    {
        var call = Begin(stream: true);

        await ExchangeHarness.TranslateStreamAsync(call, """
            data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-x","system_fingerprint":"fp_1","obfuscation":"x1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}

            data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-x","system_fingerprint":"fp_1","obfuscation":"x2","choices":[{"index":0,"delta":{"reasoning":"hmm","annotations":[{"type":"url_citation","url_citation":{"url":"https://a.example","start_index":0,"end_index":2}}]},"finish_reason":"stop"}]}

            data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-x","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}

            data: [DONE]


            """, TestContext.Current.CancellationToken);

        Assert.Equal(["system_fingerprint", "choices[].delta.reasoning", "choices[].delta.annotations"], call.Outcome.DroppedAnswerFields);
    }
}
