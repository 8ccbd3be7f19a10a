namespace MixProxy.Translation.AnthropicMessages;

/// <summary>
/// How a Gemini thought signature rides in a <c>thinking</c> block's <c>signature</c> on translated routes. Anthropic
/// clients keep thinking blocks and send them back whole (Anthropic requires it for tool use with thinking), so the
/// gateway puts each signature in a thinking block right before the signed <c>tool_use</c> and takes it out again
/// when the block comes back: a sealed signature belongs to the first <c>tool_use</c> after its block. Thinking
/// blocks that carry thought text but no signature get <see cref="NoSignature"/>, since Anthropic's blocks always have
/// one. A signature the gateway did not seal (Claude's own, from a conversation begun on Anthropic) is not one any
/// upstream behind a translated route can read, and its block is dropped.
/// </summary>
public static class AnthropicThinking
{
    public const string SignaturePrefix = "mixproxy.thought_signature.v1:";

    /// <summary>The signature of a thinking block that carries no thought signature.</summary>
    public const string NoSignature = "mixproxy.thinking.v1";

    public static string Seal(string signature) => SignaturePrefix + signature;

    /// <summary>The thought signature a thinking block's <c>signature</c> holds; null when it is not one the gateway sealed.</summary>
    public static string? Open(string? signature) =>
        signature is not null && signature.StartsWith(SignaturePrefix, StringComparison.Ordinal) && signature.Length > SignaturePrefix.Length
            ? signature[SignaturePrefix.Length..]
            : null;
}
