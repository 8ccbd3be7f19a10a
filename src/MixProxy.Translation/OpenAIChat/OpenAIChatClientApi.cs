using System.Text.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>
/// Clients of OpenAI Chat Completions (<c>POST /v1/chat/completions</c>): the model and stream flags come from the
/// body, the key from <c>Authorization: Bearer</c>, errors and model lists in OpenAI's shapes.
/// </summary>
public sealed class OpenAIChatClientApi : ClientApi
{
    public static OpenAIChatClientApi Instance { get; } = new();

    private OpenAIChatClientApi()
    {
        Chat = new ClientEndpoint(this, "OpenAIChat", "chat", OpenAIChatVocabulary.Model);
        Endpoints = [Chat];
    }

    /// <summary><c>POST /v1/chat/completions</c>.</summary>
    public ClientEndpoint Chat { get; }

    public override string Name => "OpenAI Chat Completions";

    public override WireProtocol Protocol => OpenAIChatVocabulary.Protocol;

    public override IReadOnlyList<ClientEndpoint> Endpoints { get; }

    public override IReadOnlyList<CredentialSource> CredentialSources { get; } = [OpenAIChatVocabulary.BearerCredential];

    public override ModelCatalog Catalog { get; } = new(["/v1/models"], ["/v1/models/{" + ModelCatalog.ModelParameter + "}"], OpenAIChatVocabulary.Model);

    /// <summary>OpenAI's SDKs send a bearer key to <c>/v1/…</c>; nothing else marks them, so this API answers what no other claims.</summary>
    public override bool Claims(IRequestHead head) => false;

    protected override ClientRequest Parse(ClientEndpoint endpoint, IRequestHead head, ParsedBody body)
    {
        var root = body.Document?.RootElement ?? default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(null, "The request body must be a JSON object.");
        }

        if (!root.TryGetProperty(OpenAIChatVocabulary.Model, out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } name)
        {
            throw new TranslationException(OpenAIChatVocabulary.Model, "'model' is required and must be a non-empty string.");
        }

        var stream = false;
        if (root.TryGetProperty(OpenAIChatVocabulary.Stream, out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new TranslationException(OpenAIChatVocabulary.Stream, "'stream' must be a boolean.");
            }

            stream = s.GetBoolean();
        }

        var includeUsage = false;
        if (root.TryGetProperty(OpenAIChatVocabulary.StreamOptions, out var options) && options.ValueKind != JsonValueKind.Null)
        {
            if (options.ValueKind != JsonValueKind.Object)
            {
                throw new TranslationException(OpenAIChatVocabulary.StreamOptions, "'stream_options' must be an object.");
            }

            if (options.TryGetProperty(OpenAIChatVocabulary.IncludeUsage, out var iu) && iu.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            {
                throw new TranslationException(OpenAIChatVocabulary.StreamOptions + "." + OpenAIChatVocabulary.IncludeUsage, "'include_usage' must be a boolean.");
            }

            includeUsage = options.TryGetProperty(OpenAIChatVocabulary.IncludeUsage, out var asked) && asked.ValueKind == JsonValueKind.True;
        }

        return new ClientRequest
        {
            Endpoint = endpoint,
            Model = name,
            Stream = stream,
            WantsStreamUsage = includeUsage,
            MaxOutputTokens = OpenAIChatUsage.MaxOutputTokens(root),
            BodyBytes = body.Length,
            Body = body.Bytes,
            Document = body.Document,
            BodyRead = body.Read,
        };
    }

    public override byte[] ErrorBody(ClientError refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);

        // The codes OpenAI uses for these errors where it has them; the gateway's own for an unusable upstream reply.
        var (type, code) = refusal.Kind switch
        {
            ClientErrorKind.InvalidKey => (OpenAIChatErrors.TypeFor(refusal.Status), "invalid_api_key"),
            ClientErrorKind.UnknownModel => (OpenAIChatErrors.TypeFor(refusal.Status), "model_not_found"),
            ClientErrorKind.ModelNotAllowed => (OpenAIChatErrors.TypeFor(refusal.Status), "model_not_allowed"),
            ClientErrorKind.RateLimited => (OpenAIChatErrors.TypeFor(refusal.Status), "rate_limit_exceeded"),
            ClientErrorKind.BadUpstream => ("upstream_error", "bad_upstream_response"),
            ClientErrorKind.UpstreamCredentialRejected => ("upstream_error", "upstream_auth_failed"),
            _ => (OpenAIChatErrors.TypeFor(refusal.Status), (string?)null),
        };
        return OpenAIChatErrors.Body(refusal.Message, type, refusal.Param, code);
    }

    protected override void WriteModelList(Utf8JsonWriter writer, IEnumerable<string> models) => WriteOpenAIModelList(writer, models);

    protected override void WriteModel(Utf8JsonWriter writer, string model) => WriteOpenAIModel(writer, model);

    /// <summary>OpenAI's model list, which its other APIs (Responses) share.</summary>
    internal static void WriteOpenAIModelList(Utf8JsonWriter writer, IEnumerable<string> models)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(models);
        writer.WriteStartObject();
        writer.WriteString("object"u8, "list");
        writer.WritePropertyName("data"u8);
        writer.WriteStartArray();
        foreach (var model in models)
        {
            WriteOpenAIModel(writer, model);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    internal static void WriteOpenAIModel(Utf8JsonWriter writer, string model)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("id"u8, model);
        writer.WriteString("object"u8, "model");
        writer.WriteNumber("created"u8, 0);
        writer.WriteString("owned_by"u8, "mixproxy");
        writer.WriteEndObject();
    }
}
