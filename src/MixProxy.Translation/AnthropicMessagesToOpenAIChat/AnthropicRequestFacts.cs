namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>What translating an Anthropic request decided that the response side needs to know.</summary>
/// <param name="ShowsThinking">
/// The client turned thinking on (<c>enabled</c> or <c>adaptive</c>): the answer shows <c>thinking</c> blocks, and
/// thought signatures ride in them. Otherwise signatures are left to the gateway's signature memory, by tool-use id.
/// </param>
/// <param name="WebSearch">The request offered web search, so the answer may carry citations.</param>
internal sealed record AnthropicRequestFacts(bool ShowsThinking, bool WebSearch);
