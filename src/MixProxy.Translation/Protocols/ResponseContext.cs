namespace MixProxy.Translation.Protocols;

/// <summary>What a response translator needs to know about the request it answers.</summary>
public sealed record ResponseContext
{
    /// <summary>The model name the client asked for; echoed back so aliases stay invisible.</summary>
    public required string ClientModel { get; init; }

    /// <summary>Unix seconds for <c>created</c>.</summary>
    public required long Created { get; init; }

    /// <summary>Add the provider page's <c>"output": {"text": …}</c> to non-streaming responses.</summary>
    public bool IncludeOutputText { get; init; } = true;

    /// <summary>Streams only: send the final usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; init; }

    /// <summary>
    /// Streams only: the request turned on Google Search, so each choice's text is kept until the end, where
    /// Gemini's grounding (byte offsets into the whole text) becomes <c>url_citation</c> annotations.
    /// </summary>
    public bool SearchGrounding { get; init; }
}
