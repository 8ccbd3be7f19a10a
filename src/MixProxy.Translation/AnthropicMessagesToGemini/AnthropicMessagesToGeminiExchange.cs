using MixProxy.Translation.AnthropicMessagesToOpenAIChat;
using MixProxy.Translation.OpenAIChatToGemini;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessagesToGemini;

/// <summary>
/// Anthropic client, Gemini upstream: the Anthropic request goes the Chat Completions client's way to Gemini
/// (<see cref="OpenAIChatToGeminiExchange"/>) and its answer comes back through the same bridge
/// (<see cref="MessagesOverChatExchange"/>), so Gemini's thought signatures, Google Search grounding and structured
/// output work as they do for Chat clients. <c>count_tokens</c> asks Gemini's <c>countTokens</c> about the very
/// request a generation would send (<see cref="GeminiCountTokensCall"/>).
/// </summary>
public sealed class AnthropicMessagesToGeminiExchange() : MessagesOverChatExchange(new OpenAIChatToGeminiExchange(), towardsGemini: true)
{
    protected override ExchangeCall BeginCount(UpstreamRequest generation, ExchangeCall inner, ExchangeSettings settings) =>
        GeminiCountTokensCall.Begin(generation, inner, settings.Model.UpstreamModel);
}
