namespace MixProxy.Translation;

/// <summary>
/// Token counts an upstream reported for one response, in OpenAI's sense: <see cref="Output"/> includes
/// reasoning tokens, <see cref="Input"/> includes cached and tool-use prompt tokens.
/// </summary>
public readonly record struct TokenUsage(long Input, long Output, long Total, long Reasoning, long Cached)
{
    public static TokenUsage None => default;
}

/// <summary>
/// Receives the usage a translator saw, so the host can account for it (rate limits, metrics) without
/// parsing the body again. Filled before the translated body is finished.
/// </summary>
public sealed class UsageSink
{
    public TokenUsage? Usage { get; set; }
}
