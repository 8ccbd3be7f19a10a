namespace MixProxy.Translation.Protocols;

/// <summary>How a model exposes thinking: Gemini 3 takes a level, Gemini 2.5 a token budget, older models nothing.</summary>
public enum ThinkingStyle
{
    None,
    Level,
    Budget,
}

/// <summary>
/// What the translator must know about the upstream model to map request knobs faithfully.
/// It comes from the gateway's model map, never from substring checks on model names.
/// </summary>
public sealed record UpstreamModelProfile
{
    /// <summary>The model name the upstream expects (after alias mapping).</summary>
    public required string UpstreamModel { get; init; }

    public ThinkingStyle Thinking { get; init; } = ThinkingStyle.None;

    /// <summary>For <see cref="ThinkingStyle.Level"/>: accepted levels, lowest first (e.g. <c>low, high</c> for Gemini 3 Pro).</summary>
    public IReadOnlyList<string> ThinkingLevels { get; init; } = ["low", "high"];

    /// <summary>For <see cref="ThinkingStyle.Budget"/>: the smallest budget the model accepts (0 when thinking can be turned off).</summary>
    public int MinThinkingBudget { get; init; }

    /// <summary>For <see cref="ThinkingStyle.Budget"/>: the largest budget the model accepts.</summary>
    public int MaxThinkingBudget { get; init; } = 24576;

    /// <summary>
    /// Gemini 3 validates thought signatures on function calls in the history: a step whose calls lost theirs
    /// gets Google's documented placeholder on its first call instead of a 400.
    /// </summary>
    public bool RequiresThoughtSignatures { get; init; }

    /// <summary>
    /// Gemini 2.5+ take raw JSON Schema (<c>parametersJsonSchema</c>, <c>responseJsonSchema</c>); older models and
    /// some proxies only the OpenAPI subset, into which schemas are then converted.
    /// </summary>
    public bool SupportsJsonSchema { get; init; } = true;

    /// <summary>Some Gemini models reject presence/frequency penalties outright.</summary>
    public bool SupportsPenalties { get; init; } = true;

    /// <summary>
    /// Gemini 3 takes a <c>mediaResolution</c> on each media part, which is where an image's <c>detail</c> goes;
    /// older models only have the request-wide setting, and <c>detail</c> is then left to the model's default.
    /// </summary>
    public bool SupportsPartMediaResolution { get; init; }

    /// <summary>
    /// The upstream takes <c>id</c> on <c>functionCall</c> and <c>functionResponse</c> parts (Vertex AI, and Gemini API
    /// models that issue ids): the history's call ids are sent back so responses pair with calls by id, not only by
    /// position. Off by default, since an upstream that did not issue ids may reject them.
    /// </summary>
    public bool SupportsFunctionCallIds { get; init; }

    /// <summary>
    /// Gemini 3 takes Google Search and function declarations in one request (with
    /// <c>includeServerSideToolInvocations</c>); Gemini 2.x refuses the mix, so the gateway refuses it first, clearly.
    /// </summary>
    public bool SupportsSearchWithFunctions { get; init; }

    /// <summary>
    /// Refuse the request fields the upstream has no place for, instead of dropping them and reporting it
    /// (<see cref="DroppedFields"/>): for teams that want a request answered exactly as asked or not at all.
    /// </summary>
    public bool StrictTranslation { get; init; }

    /// <summary>OpenAI's own ceiling for <c>top_logprobs</c>.</summary>
    public const int OpenAIMaxTopLogprobs = 20;

    /// <summary>The most alternatives per token the upstream returns; a larger <c>top_logprobs</c> is lowered to it.</summary>
    public int MaxTopLogprobs { get; init; } = OpenAIMaxTopLogprobs;
}
