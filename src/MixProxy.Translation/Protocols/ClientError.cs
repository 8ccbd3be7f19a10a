namespace MixProxy.Translation.Protocols;

/// <summary>
/// An error the gateway itself answers (bad key, unknown model, limit reached, unusable upstream reply), before a
/// client API writes it in its protocol's shape. <see cref="Param"/> and <see cref="Code"/> go where the protocol has a
/// place for them; <see cref="Type"/> overrides the error type a protocol would derive from the status.
/// </summary>
public sealed record ClientError(int Status, string Message, string? Param = null, string? Code = null)
{
    public string? Type { get; init; }

    /// <summary>The upstream answered something the gateway cannot pass on or translate (502).</summary>
    public static ClientError BadUpstream(string message) => new(502, message, Code: "bad_upstream_response") { Type = "upstream_error" };
}

/// <summary>An upstream error restated for the client: status, body and any retry delay the upstream gave.</summary>
public sealed record TranslatedError(int StatusCode, byte[] Body, TimeSpan? RetryAfter);
