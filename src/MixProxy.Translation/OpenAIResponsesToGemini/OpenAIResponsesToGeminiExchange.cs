using MixProxy.Translation.OpenAIChatToGemini;
using MixProxy.Translation.OpenAIResponsesToOpenAIChat;

namespace MixProxy.Translation.OpenAIResponsesToGemini;

/// <summary>
/// Responses client, Gemini upstream: the Responses request goes the Chat Completions client's way to Gemini
/// (<see cref="OpenAIChatToGeminiExchange"/>) and its answer comes back through the same bridge
/// (<see cref="ResponsesOverChatExchange"/>), so Gemini's thought signatures, Google Search grounding and structured
/// output work as they do for Chat clients.
/// </summary>
public sealed class OpenAIResponsesToGeminiExchange() : ResponsesOverChatExchange(new OpenAIChatToGeminiExchange(), towardsGemini: true);
