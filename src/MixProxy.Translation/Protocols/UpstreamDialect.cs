namespace MixProxy.Translation.Protocols;

/// <summary>
/// Which spellings of its protocol an upstream takes, from its cluster's settings (<c>MixProxy.UpstreamDialect</c>).
/// The gateway's clients write what the provider page documents, which includes a few spellings that are not the
/// protocol's own (Gemini's <c>{"function":{"name":"web_search"},"type":"function"}</c> tool); the provider's
/// backend accepts them, the protocol's reference service (Google's Gemini API) refuses them.
/// </summary>
public enum UpstreamDialect
{
    /// <summary>The upstream takes the provider page's spellings too: a passthrough sends the client's body as it came.</summary>
    Lenient,

    /// <summary>
    /// The upstream takes only the protocol's published reference: a passthrough rewrites the provider page's
    /// spellings into the reference ones (only where the two say the same thing) and refuses the others with a 400
    /// that names them, instead of forwarding a request the upstream would refuse less clearly.
    /// </summary>
    Strict,
}
