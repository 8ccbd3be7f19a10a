using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessages;

/// <summary>
/// Clients of the Anthropic Messages API (<c>POST /v1/messages</c>, <c>POST /v1/messages/count_tokens</c>): the
/// model, stream flag and output cap come from the body, the key from <c>x-api-key</c> (or a bearer token);
/// <c>anthropic-version</c> and <c>anthropic-beta</c> are accepted, errors and model lists in Anthropic's shapes.
/// </summary>
public sealed class AnthropicMessagesClientApi : ClientApi
{
    public static AnthropicMessagesClientApi Instance { get; } = new();

    private AnthropicMessagesClientApi()
    {
        // gen_ai.operation.name: as for the Responses API, "chat" would merge this API's traffic with Chat
        // Completions' on every dashboard.
        Messages = new ClientEndpoint(this, "AnthropicMessages", "messages", AnthropicMessagesVocabulary.Model);
        CountTokens = new ClientEndpoint(this, "AnthropicCountTokens", "count_tokens", AnthropicMessagesVocabulary.Model, generates: false);
        Endpoints = [Messages, CountTokens];
    }

    /// <summary><c>POST /v1/messages</c>.</summary>
    public ClientEndpoint Messages { get; }

    /// <summary><c>POST /v1/messages/count_tokens</c>.</summary>
    public ClientEndpoint CountTokens { get; }

    public override string Name => "Anthropic Messages";

    public override WireProtocol Protocol => AnthropicMessagesVocabulary.Protocol;

    public override IReadOnlyList<ClientEndpoint> Endpoints { get; }

    // Anthropic's SDKs send x-api-key; clients configured with an auth token (Claude Code's ANTHROPIC_AUTH_TOKEN) a bearer.
    public override IReadOnlyList<CredentialSource> CredentialSources { get; } = [AnthropicMessagesVocabulary.ApiKeyCredential, CredentialSource.BearerToken];

    /// <summary>Anthropic lists models at <c>/v1/models</c> too; its clients are told apart by <c>anthropic-version</c>.</summary>
    public override ModelCatalog Catalog { get; } = new(["/v1/models"], ["/v1/models/{" + ModelCatalog.ModelParameter + "}"], AnthropicMessagesVocabulary.Model);

    /// <summary>Anthropic's SDKs send <c>anthropic-version</c> on every request; and anything under <c>/v1/messages</c> is theirs.</summary>
    public override bool Claims(IRequestHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        return head.Header(AnthropicMessagesVocabulary.VersionHeader) is not null
            || head.Path == AnthropicMessagesVocabulary.MessagesPath
            || head.Path.StartsWith(AnthropicMessagesVocabulary.MessagesPath + "/", StringComparison.Ordinal);
    }

    protected override ClientRequest Parse(ClientEndpoint endpoint, IRequestHead head, ParsedBody body)
    {
        var root = body.Document?.RootElement ?? default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(null, "The request body must be a JSON object.");
        }

        if (!root.TryGetProperty(AnthropicMessagesVocabulary.Model, out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } name)
        {
            throw new TranslationException(AnthropicMessagesVocabulary.Model, "model: Field required (a non-empty string).");
        }

        var stream = false;
        long? maxTokens = null;
        if (endpoint == Messages)
        {
            stream = ClientFields.OptionalBoolean(AnthropicFields.Get(root, AnthropicMessagesVocabulary.Stream), AnthropicMessagesVocabulary.Stream) ?? false;
            var cap = AnthropicFields.Get(root, AnthropicMessagesVocabulary.MaxTokens);
            if (!AnthropicFields.IsSet(cap))
            {
                throw new TranslationException(AnthropicMessagesVocabulary.MaxTokens, "max_tokens: Field required");
            }

            if (!(cap.ValueKind == JsonValueKind.Number && cap.TryGetInt64(out var n) && n >= 1))
            {
                throw new TranslationException(AnthropicMessagesVocabulary.MaxTokens, "max_tokens: Input should be an integer greater than or equal to 1");
            }

            maxTokens = n;
        }
        else if (AnthropicFields.IsSet(AnthropicFields.Get(root, AnthropicMessagesVocabulary.Stream)))
        {
            throw new TranslationException(AnthropicMessagesVocabulary.Stream, "stream: Extra inputs are not permitted");
        }

        return new AnthropicClientRequest
        {
            ApiVersion = head.Header(AnthropicMessagesVocabulary.VersionHeader),
            Beta = head.Header(AnthropicMessagesVocabulary.BetaHeader),
            Endpoint = endpoint,
            Model = name,
            Stream = stream,

            // An Anthropic stream always reports its usage.
            WantsStreamUsage = stream,
            MaxOutputTokens = maxTokens,
            BodyBytes = body.Length,
            Body = body.Bytes,
            Document = body.Document,
            BodyRead = body.Read,
        };
    }

    public override byte[] ErrorBody(ClientError refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);

        // Anthropic's error objects have no field for the offending parameter: its messages name it, and so do these.
        var message = refusal.Param is { } param && !refusal.Message.StartsWith(param, StringComparison.Ordinal)
            ? $"{param}: {refusal.Message}"
            : refusal.Message;
        var type = refusal.Kind switch
        {
            ClientErrorKind.BadUpstream or ClientErrorKind.UpstreamCredentialRejected => "api_error",
            _ => AnthropicErrors.TypeFor(refusal.Status),
        };
        return AnthropicErrors.Body(type, message);
    }

    public override string UnknownModelMessage(ClientRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return $"model: {request.Model}";
    }

    protected override void WriteModelList(Utf8JsonWriter writer, IEnumerable<string> models)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(models);
        var list = models.ToList();
        writer.WriteStartObject();
        writer.WritePropertyName("data"u8);
        writer.WriteStartArray();
        foreach (var model in list)
        {
            WriteModel(writer, model);
        }

        writer.WriteEndArray();
        writer.WriteBoolean("has_more"u8, false);
        writer.WriteString("first_id"u8, list.Count > 0 ? list[0] : null);
        writer.WriteString("last_id"u8, list.Count > 0 ? list[^1] : null);
        writer.WriteEndObject();
    }

    protected override void WriteModel(Utf8JsonWriter writer, string model)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("type"u8, "model");
        writer.WriteString("id"u8, model);
        writer.WriteString("display_name"u8, model);

        // The gateway does not know when a model was released; the epoch says so without inventing a date.
        writer.WriteString("created_at"u8, "1970-01-01T00:00:00Z");
        writer.WriteEndObject();
    }
}
