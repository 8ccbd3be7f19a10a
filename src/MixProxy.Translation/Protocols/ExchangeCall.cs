using System.Buffers;

namespace MixProxy.Translation.Protocols;

/// <summary>
/// One request's exchange: the upstream request it prepared, and the response side, which knows what the request
/// side decided (the model the client asked for, whether it streams, what Google Search may cite). Whatever the
/// response side learns goes into <see cref="Outcome"/>.
/// </summary>
public abstract class ExchangeCall
{
    private UpstreamRequest? _request;

    protected ExchangeCall(UpstreamRequest request)
        : this(request, new ExchangeOutcome())
    {
    }

    /// <summary>A call that reports into another call's outcome: one exchange built on another (a bridge) shares it.</summary>
    protected ExchangeCall(UpstreamRequest request, ExchangeOutcome outcome)
    {
        _request = request;
        Outcome = outcome ?? throw new ArgumentNullException(nameof(outcome));
    }

    /// <summary>What the upstream gets instead of the client's body, path and query.</summary>
    public UpstreamRequest Request => _request ?? throw new InvalidOperationException("The upstream request was sent and released.");

    /// <summary>Lets go of the upstream request (its body can be megabytes) once it is sent; the response side needs none of it.</summary>
    public void ReleaseRequest() => _request = null;

    public ExchangeOutcome Outcome { get; }

    /// <summary>
    /// Fields of the client's request the upstream request goes without (<see cref="DroppedFields"/>), in the client's
    /// notation: the host reports them to the client and in its metrics.
    /// </summary>
    public IReadOnlyList<string> Dropped { get; init; } = [];

    /// <summary>Whether upstream errors are restated (their body must then be read whole) or passed through as they are.</summary>
    public abstract bool RestatesErrors { get; }

    /// <summary>The upstream's error (status and body) as the client must get it; only called when <see cref="RestatesErrors"/>.</summary>
    public virtual TranslatedError TranslateError(int status, ReadOnlySpan<byte> body) =>
        throw new NotSupportedException($"{GetType().Name} passes upstream errors through.");

    /// <summary>
    /// A whole successful response: reads its usage into <see cref="Outcome"/> and writes the client's body into
    /// <paramref name="output"/>, returning its content type; or returns null, writing nothing, when the upstream body
    /// goes to the client as it is. Throws <see cref="UpstreamResponseException"/> when the body is unusable.
    /// </summary>
    public abstract string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output);

    /// <summary>
    /// A successful stream: the body the client reads instead of <paramref name="upstream"/>. Throws
    /// <see cref="UpstreamResponseException"/> when the upstream did not answer with a stream.
    /// </summary>
    public abstract StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken);
}

/// <summary>The body of a streamed reply, and its content type when it differs from the upstream's.</summary>
/// <param name="Body">What the client reads.</param>
/// <param name="ContentType">The client's content type; null keeps the upstream's content type and length.</param>
/// <param name="NoCache">Tell intermediaries not to cache or buffer it (<c>Cache-Control: no-cache</c>).</param>
public sealed record StreamReply(Stream Body, string? ContentType, bool NoCache = false);
