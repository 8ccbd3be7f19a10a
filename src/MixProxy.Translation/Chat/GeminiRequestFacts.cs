namespace MixProxy.Translation.Chat;

/// <summary>What translating a chat request into a Gemini request decided that the response side needs to know.</summary>
/// <param name="GoogleSearch">
/// The request turned on Google Search, so the answer may carry grounding: a stream translator then keeps each
/// choice's text, because the grounding offsets arrive only at the end and refer to the whole text.
/// </param>
public sealed record GeminiRequestFacts(bool GoogleSearch);
