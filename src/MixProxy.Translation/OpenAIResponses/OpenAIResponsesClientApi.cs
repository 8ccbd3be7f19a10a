using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIResponses;

/// <summary>
/// Clients of the OpenAI Responses API (<c>POST /v1/responses</c>): the model, stream flag and what to store come from
/// the body, the key from <c>Authorization: Bearer</c>; errors and model lists are OpenAI's, as for Chat Completions.
/// Responses stored on translated routes are read and deleted through <see cref="StoredResults"/>.
/// </summary>
public sealed class OpenAIResponsesClientApi : ClientApi
{
    public static OpenAIResponsesClientApi Instance { get; } = new();

    private OpenAIResponsesClientApi()
    {
        // gen_ai.operation.name: the conventions' "chat" would merge this API's traffic with Chat Completions'
        // on every dashboard; the two are told apart by their own name.
        Responses = new ClientEndpoint(this, "OpenAIResponses", "responses", OpenAIResponsesVocabulary.Model);
        Endpoints = [Responses];
    }

    /// <summary><c>POST /v1/responses</c>.</summary>
    public ClientEndpoint Responses { get; }

    public override string Name => "OpenAI Responses";

    public override WireProtocol Protocol => OpenAIResponsesVocabulary.Protocol;

    public override IReadOnlyList<ClientEndpoint> Endpoints { get; }

    public override IReadOnlyList<CredentialSource> CredentialSources { get; } = [CredentialSource.BearerToken];

    /// <summary>The same catalogue as Chat Completions' (<c>/v1/models</c>, in the same shape): OpenAI's SDKs list models there for both APIs.</summary>
    public override ModelCatalog Catalog => OpenAIChatClientApi.Instance.Catalog;

    public override StoredResultApi StoredResults => StoredResponses.Instance;

    /// <summary>Nothing marks its clients apart from Chat Completions' on shared paths; Chat Completions answers those.</summary>
    public override bool Claims(IRequestHead head) => false;

    protected override ClientRequest Parse(ClientEndpoint endpoint, IRequestHead head, ParsedBody body)
    {
        var root = body.Document?.RootElement ?? default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(null, "The request body must be a JSON object.");
        }

        if (!root.TryGetProperty(OpenAIResponsesVocabulary.Model, out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } name)
        {
            throw new TranslationException(OpenAIResponsesVocabulary.Model, "'model' is required and must be a non-empty string.");
        }

        var stream = ClientFields.OptionalBoolean(Field(root, OpenAIResponsesVocabulary.Stream), OpenAIResponsesVocabulary.Stream) ?? false;

        // OpenAI stores responses unless told not to.
        var store = ClientFields.OptionalBoolean(Field(root, OpenAIResponsesVocabulary.Store), OpenAIResponsesVocabulary.Store) ?? true;
        var previous = ClientFields.OptionalString(Field(root, OpenAIResponsesVocabulary.PreviousResponseId), OpenAIResponsesVocabulary.PreviousResponseId);
        if (previous is { Length: 0 })
        {
            throw new TranslationException(OpenAIResponsesVocabulary.PreviousResponseId, "'previous_response_id' must not be empty.");
        }

        var encrypted = false;
        if (Field(root, OpenAIResponsesVocabulary.Include) is { ValueKind: not (JsonValueKind.Undefined or JsonValueKind.Null) } include)
        {
            if (include.ValueKind != JsonValueKind.Array)
            {
                throw new TranslationException(OpenAIResponsesVocabulary.Include, "'include' must be an array of strings.");
            }

            var i = 0;
            foreach (var item in include.EnumerateArray())
            {
                var value = ClientFields.OptionalString(item, $"{OpenAIResponsesVocabulary.Include}[{i++}]");
                encrypted |= value == OpenAIResponsesVocabulary.IncludeEncryptedReasoning;
            }
        }

        var maxOutput = Field(root, OpenAIResponsesVocabulary.MaxOutputTokens);
        if (maxOutput.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null) && !(maxOutput.ValueKind == JsonValueKind.Number && maxOutput.TryGetInt64(out var cap) && cap > 0))
        {
            throw new TranslationException(OpenAIResponsesVocabulary.MaxOutputTokens, "'max_output_tokens' must be a positive integer.");
        }

        return new ResponsesClientRequest
        {
            Endpoint = endpoint,
            Model = name,
            Stream = stream,
            WantsStreamUsage = stream,
            MaxOutputTokens = OpenAIResponsesUsage.MaxOutputTokens(root),
            BodyBytes = body.Length,
            Body = body.Bytes,
            Document = body.Document,
            BodyRead = body.Read,
            PriorResultId = previous,

            // A stored response has an id the client may read, continue or delete later: a replay from the cache
            // would hand out an id that nothing stored.
            Cacheable = !store,
            Store = store,
            IncludeEncryptedReasoning = encrypted,
        };
    }

    public override byte[] ErrorBody(ClientError refusal) => OpenAIChatClientApi.Instance.ErrorBody(refusal);

    public override string UnknownModelMessage(ClientRequest request) => OpenAIChatClientApi.Instance.UnknownModelMessage(request);

    protected override void WriteModelList(Utf8JsonWriter writer, IEnumerable<string> models) => OpenAIChatClientApi.WriteOpenAIModelList(writer, models);

    protected override void WriteModel(Utf8JsonWriter writer, string model) => OpenAIChatClientApi.WriteOpenAIModel(writer, model);

    private static JsonElement Field(JsonElement root, string name) => root.TryGetProperty(name, out var value) ? value : default;
}

/// <summary>A Responses API request's facts beyond the common ones: what to store and what to show of reasoning.</summary>
public sealed class ResponsesClientRequest : ClientRequest
{
    /// <summary><c>store</c>: keep the response for reading and continuing (the default).</summary>
    public bool Store { get; init; }

    /// <summary><c>include</c> asks for <c>reasoning.encrypted_content</c>.</summary>
    public bool IncludeEncryptedReasoning { get; init; }

    private string? _bodyDigest;

    /// <summary>
    /// The SHA-256 of the client's whole body (hex). A translated response repeats the request's settings (metadata,
    /// instructions, tools…) and shows what include asked for, none of which reaches the upstream: two requests with
    /// the same upstream body may still get different answers. Computed only when a cache key asks for it (before
    /// the body is released), not on every request.
    /// </summary>
    public override string ResponseShape => _bodyDigest ??= Body.IsEmpty ? string.Empty : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Body.Span));
}
