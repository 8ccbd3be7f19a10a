using System.Text.Json;

namespace MixProxy.Translation.Protocols;

/// <summary>
/// A client request as its client API parsed it, once: the typed facts the gateway routes, limits and caches by, and
/// the parsed body the exchange translates. Client APIs with facts of their own (Gemini's API version and stream
/// framing) extend it; their exchanges read those.
/// </summary>
public class ClientRequest
{
    public required ClientEndpoint Endpoint { get; init; }

    /// <summary>The model name as the client sent it.</summary>
    public required string Model { get; init; }

    public bool Stream { get; init; }

    /// <summary>The client asked for the usage in its stream (OpenAI's <c>stream_options.include_usage</c>).</summary>
    public bool WantsStreamUsage { get; init; }

    /// <summary>The output cap the request sets; null when it sets none (or its body was not read).</summary>
    public long? MaxOutputTokens { get; init; }

    /// <summary>
    /// The id of a result the gateway stored that this request continues (the Responses API's
    /// <c>previous_response_id</c>): the host loads it for exchanges that use stored results
    /// (<see cref="Exchange.UsesStoredResults"/>) and hands it over in <see cref="ExchangeSettings.PriorResult"/>.
    /// </summary>
    public string? PriorResultId { get; init; }

    /// <summary>
    /// Whether the answer may be replayed from the response cache. Not when answering creates something the client
    /// can name later (a stored response with its own id): a replay would hand out that id again without storing.
    /// </summary>
    public bool Cacheable { get; init; } = true;

    /// <summary>The body's size in bytes (declared when it was not read): the admission estimate of the input.</summary>
    public long BodyBytes { get; init; }

    private ReadOnlyMemory<byte> _body;
    private JsonDocument? _document;

    /// <summary>The body as it arrived; empty when it was not read, or once released.</summary>
    public ReadOnlyMemory<byte> Body { get => _body; init => _body = value; }

    /// <summary>The parsed body; null when it was not read (or was empty), or once released.</summary>
    public JsonDocument? Document { get => _document; init => _document = value; }

    public bool BodyRead { get; init; }

    /// <summary>What besides the body decides the bytes the client gets back (framing, API version): part of cache keys.</summary>
    public virtual string ResponseShape => string.Empty;

    /// <summary>
    /// Lets go of the body and returns the parsed body's pooled memory, once the upstream request is on its way: a
    /// stream can hold its request for minutes, and a history with images can be megabytes. The facts stay.
    /// </summary>
    public void ReleaseBody()
    {
        _document?.Dispose();
        _document = null;
        _body = default;
    }
}
