namespace MixProxy.Translation.Protocols;

/// <summary>
/// One operation of a client API that a route serves, named by the route's <c>MixProxy.Api</c> metadata
/// (<c>OpenAIChat</c>, <c>GeminiStreamGenerateContent</c>…).
/// </summary>
public sealed class ClientEndpoint
{
    internal ClientEndpoint(ClientApi api, string id, string operationName, string? modelParam, bool generates = true)
    {
        Api = api;
        Id = id;
        OperationName = operationName;
        ModelParam = modelParam;
        Generates = generates;
    }

    public ClientApi Api { get; }

    /// <summary>The route metadata value that selects it.</summary>
    public string Id { get; }

    /// <summary>The OpenTelemetry <c>gen_ai.operation.name</c>: <c>chat</c>, <c>generate_content</c>, <c>count_tokens</c>.</summary>
    public string OperationName { get; }

    /// <summary>The body field that names the model (the body is then always read); null when the URL names it.</summary>
    public string? ModelParam { get; }

    /// <summary>
    /// Whether the operation generates output. Counting tokens does not: it reserves no tokens, reports no usage to
    /// settle with, and is never cached.
    /// </summary>
    public bool Generates { get; }

    public bool ModelInBody => ModelParam is not null;

    public override string ToString() => Id;
}
