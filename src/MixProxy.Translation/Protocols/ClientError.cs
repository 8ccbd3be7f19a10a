namespace MixProxy.Translation.Protocols;

/// <summary>
/// An error the gateway itself answers (bad key, unknown model, limit reached, unusable upstream reply), before a
/// client API writes it in its protocol's shape. <see cref="Param"/> (the offending field, in the client's notation)
/// and <see cref="Kind"/> go where the protocol has a place for them: OpenAI's <c>param</c> and <c>code</c>, say.
/// </summary>
public sealed record ClientError(int Status, string Message, string? Param = null, ClientErrorKind Kind = ClientErrorKind.None)
{
    /// <summary>The upstream answered something the gateway cannot pass on or translate (502).</summary>
    public static ClientError BadUpstream(string message) => new(502, message, Kind: ClientErrorKind.BadUpstream);
}

/// <summary>What went wrong, for protocols whose errors carry a machine-readable code beside the status.</summary>
public enum ClientErrorKind
{
    /// <summary>Nothing more than the status says.</summary>
    None,

    /// <summary>The key is missing or unknown.</summary>
    InvalidKey,

    /// <summary>The gateway serves no such model.</summary>
    UnknownModel,

    /// <summary>The key may not use this model.</summary>
    ModelNotAllowed,

    /// <summary>The key's limits refuse the request for now.</summary>
    RateLimited,

    /// <summary>The upstream's answer could not be passed on or translated.</summary>
    BadUpstream,

    /// <summary>The upstream refused the gateway's own credential: the client's key is not at fault.</summary>
    UpstreamCredentialRejected,
}

/// <summary>An upstream error restated for the client: status, body and any retry delay the upstream gave.</summary>
public sealed record TranslatedError(int StatusCode, byte[] Body, TimeSpan? RetryAfter);
