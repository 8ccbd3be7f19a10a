namespace MixProxy.Translation.Protocols;

/// <summary>
/// Token counts an upstream reported for one response, in OpenAI's sense: <see cref="Output"/> includes
/// reasoning tokens, <see cref="Input"/> includes cached and tool-use prompt tokens.
/// </summary>
public readonly record struct TokenUsage(long Input, long Output, long Total, long Reasoning, long Cached)
{
    public static TokenUsage None => default;
}
