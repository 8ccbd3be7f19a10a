namespace MixProxy.Translation.Protocols;

/// <summary>
/// Google's documented bypass value for Gemini thought signatures, the one every exchange sends where a signature is
/// needed but none that the upstream itself issued can be sent: a signature lost on the way (a client that rebuilt
/// the history, a damaged value), or a request that falls back to another endpoint, which would refuse the first
/// endpoint's signatures as corrupted (<see cref="ExchangeSettings.ReplaySignatures"/>).
/// </summary>
public static class ThoughtSignatures
{
    /// <summary>
    /// <c>skip_thought_signature_validator</c>, as Google's thought-signature pages write it into the
    /// <c>thoughtSignature</c> field of a REST body (the Gemini API's FAQ for histories the model did not sign; Vertex
    /// AI's "using REST or manual handling"). Not its base64: the field holds what the JSON says, and the documented
    /// string is what Google's validator recognises. (It is valid base64url itself, so the bytes field parses.)
    /// </summary>
    public const string Bypass = "skip_thought_signature_validator";

    /// <summary><see cref="Bypass"/> as a JSON string token, quotes included, for splicing into a body.</summary>
    internal static ReadOnlySpan<byte> BypassJson => "\"skip_thought_signature_validator\""u8;
}
