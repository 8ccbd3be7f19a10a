using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.Protocols;

/// <summary>
/// What the gateway knows of one client protocol: its endpoints, where its clients put their key, how to read a
/// request into typed facts (once), and how to write its error bodies and model lists. It owns its vocabulary, so the
/// host never spells a field, header or query parameter of any protocol.
/// </summary>
public abstract class ClientApi
{
    /// <summary>
    /// A body that names a field twice is refused: the gateway would read one value (the model, say, which decides
    /// what the key may use) and an upstream parser that keeps the other would act on another request.
    /// </summary>
    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false, MaxDepth = JsonText.MaxDepth };

    /// <summary>A readable name for logs and messages (<c>OpenAI Chat Completions</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The wire protocol its clients speak: an upstream that speaks it too is passed through, untranslated.</summary>
    public abstract WireProtocol Protocol { get; }

    public abstract IReadOnlyList<ClientEndpoint> Endpoints { get; }

    /// <summary>Where its clients put their key, in the order they are looked at.</summary>
    public abstract IReadOnlyList<CredentialSource> CredentialSources { get; }

    /// <summary>
    /// The paths of its model catalogue (<c>GET</c>): a list, and one model under <see cref="ModelCatalog.ModelParameter"/>.
    /// Two APIs may share a path; <see cref="Claims"/> tells whose request it is.
    /// </summary>
    public abstract ModelCatalog Catalog { get; }

    /// <summary>The operations on results the gateway stored for its clients; null when the API stores none.</summary>
    public virtual StoredResultApi? StoredResults => null;

    /// <summary>
    /// Whether a request outside its routes (a model listing, an unknown path) looks like one of its clients', so the
    /// answer comes in a shape that client reads. The registry's first API answers those nobody claims.
    /// </summary>
    public abstract bool Claims(IRequestHead head);

    /// <summary>
    /// Reads a request into its facts. <paramref name="body"/> is null when the host did not read the body (only
    /// possible where the URL names the model). Throws <see cref="TranslationException"/> on a malformed request.
    /// </summary>
    public ClientRequest Parse(ClientEndpoint endpoint, IRequestHead head, ReadOnlyMemory<byte>? body)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(head);
        if (endpoint.Api != this)
        {
            throw new ArgumentException($"Endpoint {endpoint.Id} belongs to {endpoint.Api.Name}, not {Name}.", nameof(endpoint));
        }

        if (body is not { } bytes)
        {
            if (endpoint.ModelInBody)
            {
                throw new InvalidOperationException($"{endpoint.Id} names its model in the body: the body must be read.");
            }

            return Parse(endpoint, head, new ParsedBody(null, default, head.ContentLength ?? 0, Read: false));
        }

        JsonDocument? document = null;
        if (bytes.Length > 0 || endpoint.ModelInBody)
        {
            try
            {
                document = JsonDocument.Parse(bytes, StrictJson);
            }
            catch (JsonException e)
            {
                throw new TranslationException(null, JsonText.NestsTooDeep(bytes.Span)
                    ? $"The request body nests objects and arrays deeper than {JsonText.MaxDepth} levels, the most this gateway reads."
                    : "The request body is not valid JSON: " + e.Message);
            }

            if (!JsonText.IsValid(bytes.Span))
            {
                document.Dispose();
                throw new TranslationException(null, "The request body holds text that is not valid Unicode (bytes that are not UTF-8, or an escaped lone surrogate such as \\ud800).");
            }
        }

        try
        {
            return Parse(endpoint, head, new ParsedBody(document, bytes, bytes.Length, Read: true));
        }
        catch
        {
            document?.Dispose();
            throw;
        }
    }

    /// <summary>Reads the facts from an already parsed body (<see cref="ParsedBody.Document"/> null: not read, or empty).</summary>
    protected abstract ClientRequest Parse(ClientEndpoint endpoint, IRequestHead head, ParsedBody body);

    /// <summary>An error in this protocol's shape.</summary>
    public abstract byte[] ErrorBody(ClientError refusal);

    /// <summary>The message for a model the gateway does not serve, in the wording its clients know.</summary>
    public virtual string UnknownModelMessage(ClientRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return $"The model '{request.Model}' does not exist or is not served by this gateway.";
    }

    /// <summary>The model list of the catalogue's list paths, in this protocol's shape.</summary>
    public void WriteModelList(IEnumerable<string> models, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(models);
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        WriteModelList(writer, models);
    }

    /// <summary>One model, as the catalogue's model paths describe it.</summary>
    public void WriteModel(string model, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        WriteModel(writer, model);
    }

    protected abstract void WriteModelList(Utf8JsonWriter writer, IEnumerable<string> models);

    protected abstract void WriteModel(Utf8JsonWriter writer, string model);

    /// <summary>A request body as the host read it, handed to <see cref="Parse(ClientEndpoint, IRequestHead, ParsedBody)"/>.</summary>
    protected readonly record struct ParsedBody(JsonDocument? Document, ReadOnlyMemory<byte> Bytes, long Length, bool Read);
}

/// <summary>The paths of a client API's model catalogue.</summary>
/// <param name="ListPaths">Paths that list the models a key may use.</param>
/// <param name="ModelPaths">Paths that describe one model, with a <c>{model}</c> segment.</param>
/// <param name="ModelParam">What the API's errors call the model (their <c>param</c>); null where they name no field.</param>
public sealed record ModelCatalog(IReadOnlyList<string> ListPaths, IReadOnlyList<string> ModelPaths, string? ModelParam = null)
{
    /// <summary>The route value that holds the model name in <see cref="ModelPaths"/>.</summary>
    public const string ModelParameter = "model";
}
