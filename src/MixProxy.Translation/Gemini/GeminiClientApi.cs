using System.Text.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Gemini;

/// <summary>
/// Clients of Gemini's REST API (<c>/{version}/models/{model}:{method}</c>): the model comes from the URL, the key
/// from <c>x-goog-api-key</c>, <c>?key=</c> or a bearer token, and streams as SSE with <c>?alt=sse</c> or as one JSON
/// array without. Errors and model lists in Google's shapes.
/// </summary>
public sealed class GeminiClientApi : ClientApi
{
    public static GeminiClientApi Instance { get; } = new();

    private readonly Dictionary<ClientEndpoint, string> _methods;

    private GeminiClientApi()
    {
        GenerateContent = new ClientEndpoint(this, "GeminiGenerateContent", "generate_content", modelParam: null);
        StreamGenerateContent = new ClientEndpoint(this, "GeminiStreamGenerateContent", "generate_content", modelParam: null);
        CountTokens = new ClientEndpoint(this, "GeminiCountTokens", "count_tokens", modelParam: null, generates: false);
        Endpoints = [GenerateContent, StreamGenerateContent, CountTokens];
        _methods = new()
        {
            [GenerateContent] = GeminiVocabulary.GenerateContent,
            [StreamGenerateContent] = GeminiVocabulary.StreamGenerateContent,
            [CountTokens] = GeminiVocabulary.CountTokens,
        };
    }

    public ClientEndpoint GenerateContent { get; }

    public ClientEndpoint StreamGenerateContent { get; }

    public ClientEndpoint CountTokens { get; }

    public override string Name => "Gemini";

    public override WireProtocol Protocol => GeminiVocabulary.Protocol;

    public override IReadOnlyList<ClientEndpoint> Endpoints { get; }

    // Google's SDKs send x-goog-api-key; its REST examples ?key=; the provider page a bearer token.
    public override IReadOnlyList<CredentialSource> CredentialSources { get; } =
        [CredentialSource.BearerToken, GeminiVocabulary.ApiKeyHeaderCredential, GeminiVocabulary.ApiKeyQueryCredential];

    public override ModelCatalog Catalog { get; } = new(
        ["/v1beta/models", "/v1/models"],
        ["/v1beta/models/{" + ModelCatalog.ModelParameter + "}", "/v1/models/{" + ModelCatalog.ModelParameter + "}"]);

    /// <summary>Google clients use v1beta paths, <c>models/…:method</c> paths, or send their key as x-goog-api-key or ?key=.</summary>
    public override bool Claims(IRequestHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return head.Path.StartsWith("/" + GeminiVocabulary.DefaultVersion + "/", StringComparison.Ordinal)
            || head.Path == "/" + GeminiVocabulary.DefaultVersion
            || head.Path.Contains(':', StringComparison.Ordinal)
            || head.Header(GeminiVocabulary.ApiKeyHeader) is not null
            || head.Query(GeminiVocabulary.ApiKeyQuery) is not null;
    }

    /// <summary>The method in the URL (<c>models/{model}:{method}</c>) of one of this API's endpoints.</summary>
    public string MethodOf(ClientEndpoint endpoint) => _methods[endpoint];

    protected override ClientRequest Parse(ClientEndpoint endpoint, IRequestHead head, ParsedBody body) => new GeminiClientRequest
    {
        Endpoint = endpoint,
        Model = head.RouteValue(GeminiVocabulary.ModelRouteValue) ?? string.Empty,
        // Routes match case-insensitively (/V1BETA/…): the version is kept in Google's spelling, the one that goes upstream.
        Version = head.RouteValue(GeminiVocabulary.VersionRouteValue)?.ToLowerInvariant() ?? GeminiVocabulary.DefaultVersion,
        Sse = head.Query(GeminiVocabulary.AltQuery) == GeminiVocabulary.SseAlt,
        Stream = endpoint == StreamGenerateContent,
        MaxOutputTokens = body.Document is { } document ? GeminiUsage.MaxOutputTokens(document.RootElement) : null,
        BodyBytes = body.Length,
        Body = body.Bytes,
        Document = body.Document,
        BodyRead = body.Read,
    };

    public override byte[] ErrorBody(ClientError refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);

        // Google's errors have no field of their own for the offending field; its messages name the path
        // ("Invalid value at 'contents[0].role'"), so a refusal's param goes there, or a client learns only a leaf name.
        var message = refusal.Param is { Length: > 0 } param && !refusal.Message.Contains(param, StringComparison.Ordinal)
            ? $"Invalid value at '{param}': {refusal.Message}"
            : refusal.Message;
        return GoogleErrors.Body(refusal.Status, message);
    }

    public override string UnknownModelMessage(ClientRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return $"models/{request.Model} is not found for API version {((GeminiClientRequest)request).Version}, or is not served by this gateway.";
    }

    protected override void WriteModelList(Utf8JsonWriter writer, IEnumerable<string> models)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(models);
        writer.WriteStartObject();
        writer.WritePropertyName("models"u8);
        writer.WriteStartArray();
        foreach (var model in models)
        {
            WriteModel(writer, model);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    protected override void WriteModel(Utf8JsonWriter writer, string model)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("name"u8, "models/" + model);
        writer.WriteString("displayName"u8, model);
        writer.WritePropertyName("supportedGenerationMethods"u8);
        writer.WriteStartArray();
        writer.WriteStringValue(GeminiVocabulary.GenerateContent);
        writer.WriteStringValue(GeminiVocabulary.StreamGenerateContent);
        writer.WriteStringValue(GeminiVocabulary.CountTokens);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

/// <summary>A Gemini client's request, with the facts its URL adds: the API version and the stream framing.</summary>
public sealed class GeminiClientRequest : ClientRequest
{
    /// <summary><c>v1beta</c> or <c>v1</c>, as the client's path had it (in lower case, whatever case the client wrote).</summary>
    public required string Version { get; init; }

    /// <summary>The client asked for SSE (<c>?alt=sse</c>); without it a Gemini stream is one JSON array.</summary>
    public bool Sse { get; init; }

    public override string ResponseShape => Sse ? Version + ":sse" : Version;
}
