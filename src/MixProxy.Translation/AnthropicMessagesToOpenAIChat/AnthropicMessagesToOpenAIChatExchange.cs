using MixProxy.Translation.OpenAIChat;

namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>Anthropic client, Chat Completions upstream: the Anthropic request is sent as the Chat request it translates to.</summary>
public sealed class AnthropicMessagesToOpenAIChatExchange() : MessagesOverChatExchange(new OpenAIChatPassthroughExchange(), towardsGemini: false);
