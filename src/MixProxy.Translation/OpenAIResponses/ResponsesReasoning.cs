namespace MixProxy.Translation.OpenAIResponses;

/// <summary>
/// How a thought signature rides in a <c>reasoning</c> item's <c>encrypted_content</c> on translated routes. The
/// upstreams behind a translated route sign tool calls (Gemini 3's <c>thoughtSignature</c>, which reaches the Chat
/// side as <c>extra_content.google.thought_signature</c>); a Responses client keeps reasoning items and sends them back
/// whole, so the gateway puts the signature in the item that precedes the signed <c>function_call</c> and takes it
/// out again when the item comes back. The prefix marks the gateway's own content: an opaque value from elsewhere
/// (OpenAI's own encrypted reasoning, from a conversation that began on another model) is not a signature and is
/// dropped, as reasoning no upstream behind the route could read.
/// </summary>
public static class ResponsesReasoning
{
    public const string SignaturePrefix = "mixproxy.thought_signature.v1:";

    public static string Seal(string signature) => SignaturePrefix + signature;

    /// <summary>The signature an <c>encrypted_content</c> holds; null when it is not one the gateway sealed.</summary>
    public static string? Open(string? encryptedContent) =>
        encryptedContent is not null && encryptedContent.StartsWith(SignaturePrefix, StringComparison.Ordinal) && encryptedContent.Length > SignaturePrefix.Length
            ? encryptedContent[SignaturePrefix.Length..]
            : null;
}
