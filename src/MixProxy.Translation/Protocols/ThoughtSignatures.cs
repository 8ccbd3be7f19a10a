namespace MixProxy.Translation.Protocols;

/// <summary>
/// Google's documented bypass value for Gemini thought signatures, the one every exchange sends where a signature is
/// needed but none that the upstream itself issued can be sent: a signature lost on the way (a client that rebuilt
/// the history, a damaged value), or a request that falls back to another endpoint, which would refuse the first
/// endpoint's signatures as corrupted (<see cref="ExchangeSettings.ReplaySignatures"/>).
/// </summary>
public static class ThoughtSignatures
{
    /// <summary>Base64 of <c>skip_thought_signature_validator</c>.</summary>
    public const string Bypass = "c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I=";

    /// <summary><see cref="Bypass"/> as a JSON string token, quotes included, for splicing into a body.</summary>
    internal static ReadOnlySpan<byte> BypassJson => "\"c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I=\""u8;
}
