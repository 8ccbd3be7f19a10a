namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>What the response side must know about the Chat request written for a Responses request.</summary>
/// <param name="WebSearch">The hosted web search tool went up (as the <c>web_search</c> function the Gemini side turns into Google Search).</param>
/// <param name="ReasoningSummary">
/// The <c>reasoning.summary</c> the client asked for (<c>auto</c>, <c>concise</c>, <c>detailed</c>), or null. Chat has
/// no field for it, so nothing about it went up: the response side decides whether reasoning it receives is shown.
/// </param>
/// <param name="SearchSources">The client asked for <c>web_search_call.action.sources</c> in <c>include</c>.</param>
internal sealed record ResponsesRequestFacts(bool WebSearch, string? ReasoningSummary = null, bool SearchSources = false);
