namespace MixProxy.Translation.Protocols;

/// <summary>
/// One (client API, upstream protocol) pair: how a request of that client goes to an upstream of that protocol and
/// how the answer comes back. A same-protocol pair is an exchange too (passthrough, with the usage read on the way).
/// Stateless and shared; <see cref="Begin"/> makes the per-request <see cref="ExchangeCall"/>.
/// </summary>
public abstract class Exchange(ClientApi client, WireProtocol upstream)
{
    public ClientApi Client { get; } = client ?? throw new ArgumentNullException(nameof(client));

    public WireProtocol Upstream { get; } = upstream ?? throw new ArgumentNullException(nameof(upstream));

    /// <summary>Whether the two sides speak different protocols (request, responses and errors are rewritten).</summary>
    public bool Translates => Client.Protocol != Upstream;

    /// <summary>
    /// Whether <see cref="Begin"/> needs the client's body parsed; a passthrough may stream it on untouched, unless
    /// the request is to go with <paramref name="replaySignatures"/> false (<see cref="ExchangeSettings.ReplaySignatures"/>)
    /// and the signatures in the body must be replaced.
    /// </summary>
    public abstract bool NeedsBody(ClientRequest request, bool replaySignatures);

    /// <summary>
    /// As <see cref="NeedsBody(ClientRequest, bool)"/>, on an upstream of <paramref name="dialect"/>: a passthrough to a
    /// <see cref="UpstreamDialect.Strict"/> upstream may have spellings to rewrite (<see cref="ExchangeSettings.Dialect"/>).
    /// </summary>
    public virtual bool NeedsBody(ClientRequest request, bool replaySignatures, UpstreamDialect dialect) => NeedsBody(request, replaySignatures);

    /// <summary>
    /// Tool-call ids whose Gemini thought signatures the client did not send back (SDKs that rebuild the history
    /// from their own types): the host looks them up in its memory and hands them to <see cref="Begin"/>.
    /// </summary>
    public virtual IReadOnlyList<string> SignaturesToRecall(ClientRequest request) => [];

    /// <summary>
    /// Whether the exchange itself keeps the results the client asks to store and continues them
    /// (<see cref="ClientRequest.PriorResultId"/>); a passthrough leaves that to the upstream, which stores its own.
    /// </summary>
    public virtual bool UsesStoredResults => false;

    /// <summary>
    /// Prepares the upstream request. Throws <see cref="TranslationException"/> when the request cannot be served
    /// on this upstream (bad input: 400; an operation the upstream lacks: 501).
    /// </summary>
    public abstract ExchangeCall Begin(ClientRequest request, ExchangeSettings settings);

    public override string ToString() => $"{Client.Name} -> {Upstream.Name}";
}

/// <summary>What one request's exchange needs to know besides the request itself (a value: it costs no allocation).</summary>
public readonly record struct ExchangeSettings
{
    public ExchangeSettings()
    {
    }

    /// <summary>The upstream model and what it can do, from the model map.</summary>
    public required UpstreamModelProfile Model { get; init; }

    /// <summary>Unix seconds, for the <c>created</c> of translated responses.</summary>
    public required long Created { get; init; }

    /// <summary>Add the provider page's <c>"output": {"text": …}</c> to whole generation responses.</summary>
    public bool OutputText { get; init; } = true;

    /// <summary>Signatures found for <see cref="Exchange.SignaturesToRecall"/>; null when none were asked or found.</summary>
    public ThoughtSignatureBag? KnownSignatures { get; init; }

    /// <summary>
    /// False when the request goes to an endpoint other than the one that issued the conversation's thought
    /// signatures (a fallback): every signature the upstream would get is replaced by Google's documented bypass
    /// value (<see cref="ThoughtSignatures.Bypass"/>), which any endpoint accepts, where the issuing endpoint's
    /// signatures would be refused as corrupted. <see cref="KnownSignatures"/> are then not used either, so the host
    /// need not recall any.
    /// </summary>
    public bool ReplaySignatures { get; init; } = true;

    /// <summary>
    /// The stored result <see cref="ClientRequest.PriorResultId"/> names, as the host found it under the client's key;
    /// null when the request names none or none was found (the exchange then refuses the request).
    /// </summary>
    public StoredResult? PriorResult { get; init; }

    /// <summary>
    /// Which spellings the upstream takes, from the cluster this attempt goes to (a fallback's may differ): on a
    /// <see cref="UpstreamDialect.Strict"/> one, a passthrough rewrites or refuses what only the provider page spells.
    /// </summary>
    public UpstreamDialect Dialect { get; init; }
}

/// <summary>The upstream side of a request: what replaces the client's body, path and query; null keeps the client's.</summary>
/// <param name="Body">The body to send; null sends the client's own body as it came.</param>
/// <param name="Path">The upstream path; null keeps the client's.</param>
/// <param name="Query">The whole upstream query; null keeps the client's (less its credentials).</param>
/// <param name="Headers">
/// Headers the upstream's protocol requires on every request (Anthropic's <c>anthropic-version</c>), set whatever
/// the cluster's header allow-list forwards: without them the upstream refuses the request, which no client can fix.
/// </param>
public sealed record UpstreamRequest(ReadOnlyMemory<byte>? Body, string? Path, IReadOnlyList<KeyValuePair<string, string>>? Query, IReadOnlyList<KeyValuePair<string, string>>? Headers = null)
{
    /// <summary>The client's own body, path and query, as they came.</summary>
    public static UpstreamRequest Unchanged { get; } = new(null, null, null);
}
