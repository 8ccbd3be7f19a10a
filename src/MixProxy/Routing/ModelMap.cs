using MixProxy.Translation.Protocols;

namespace MixProxy.Routing;

/// <summary>A model-map entry after validation: its cluster, the protocols its upstream speaks (preferred first) and what the model can do.</summary>
internal sealed record ModelRoute(
    string Name,
    string ClusterId,
    IReadOnlyList<WireProtocol> Protocols,
    string? UpstreamModel,
    ThinkingStyle Thinking,
    IReadOnlyList<string> ThinkingLevels,
    int MinThinkingBudget,
    int MaxThinkingBudget,
    bool SupportsPenalties,
    bool SupportsJsonSchema = true)
{
    /// <summary>Whether image parts may carry their own <c>mediaResolution</c> (from <c>detail</c>).</summary>
    public bool PartMediaResolution { get; init; }

    public int MaxTopLogprobs { get; init; } = UpstreamModelProfile.OpenAIMaxTopLogprobs;

    /// <summary>Whether call ids are sent back on <c>functionCall</c>/<c>functionResponse</c> parts.</summary>
    public bool FunctionCallIds { get; init; }

    /// <summary>Whether Google Search may share a request with function tools.</summary>
    public bool SearchWithFunctions { get; init; }

    /// <summary>Whether fields the upstream has no place for are refused rather than dropped and reported.</summary>
    public bool StrictTranslation { get; init; }

    /// <summary>Models tried in order when this one's destinations are all unavailable or failing (each with its own cluster and protocols).</summary>
    public IReadOnlyList<ModelRoute> Fallbacks { get; init; } = [];

    public bool IsPattern => Name.Contains('*', StringComparison.Ordinal);

    /// <summary>The profile of an exact (non-pattern) entry, built once by <see cref="WithProfile"/>; null for patterns.</summary>
    public UpstreamModelProfile? ExactProfile { get; init; }

    /// <summary>What the upstream model can do, for the model name a request asked for (the same object for an exact entry).</summary>
    public UpstreamModelProfile ProfileFor(string requestedModel) => ExactProfile ?? BuildProfile(requestedModel);

    /// <summary>This entry with its profile built once, when it names one model (a pattern's depends on the request).</summary>
    public ModelRoute WithProfile() => IsPattern ? this : this with { ExactProfile = BuildProfile(Name) };

    private UpstreamModelProfile BuildProfile(string requestedModel) => new()
    {
        UpstreamModel = UpstreamModel ?? requestedModel,
        Thinking = Thinking,
        ThinkingLevels = ThinkingLevels,
        MinThinkingBudget = MinThinkingBudget,
        MaxThinkingBudget = MaxThinkingBudget,
        SupportsPenalties = SupportsPenalties,
        RequiresThoughtSignatures = Thinking == ThinkingStyle.Level,
        SupportsJsonSchema = SupportsJsonSchema,
        SupportsPartMediaResolution = PartMediaResolution,
        MaxTopLogprobs = MaxTopLogprobs,
        SupportsFunctionCallIds = FunctionCallIds,
        SupportsSearchWithFunctions = SearchWithFunctions,
        StrictTranslation = StrictTranslation,
    };
}

/// <summary>
/// Resolves a client's model name: exact names first, then patterns in file order. Anything else is unknown,
/// which keeps metric labels and upstream calls to the configured set.
/// </summary>
internal sealed class ModelMap
{
    private readonly Dictionary<string, ModelRoute> _exact;
    private readonly List<ModelRoute> _patterns;

    public ModelMap(IEnumerable<ModelRoute> routes)
    {
        var all = routes.ToList();
        _exact = all.Where(r => !r.IsPattern).ToDictionary(r => r.Name, StringComparer.Ordinal);
        _patterns = all.Where(r => r.IsPattern).ToList();
        Names = _exact.Keys.ToList();
    }

    /// <summary>The exact (listable) model names.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Model names are letters, digits and <c>. _ - : / @ +</c>, at most 200 characters, with no <c>..</c>:
    /// they end up in upstream URLs and cache keys, so anything else is refused before it is looked up.
    /// </summary>
    public static bool IsValidName(string model) =>
        model.Length is > 0 and <= 200
        && !model.Contains("..", StringComparison.Ordinal)
        && model.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '/' or '@' or '+');

    public ModelRoute? Resolve(string model)
    {
        if (_exact.TryGetValue(model, out var route))
        {
            return route;
        }

        foreach (var pattern in _patterns)
        {
            if (Glob.IsMatch(pattern.Name, model))
            {
                return pattern;
            }
        }

        return null;
    }
}

/// <summary>Matches names against <c>*</c> wildcards (any run of characters).</summary>
internal static class Glob
{
    public static bool IsMatch(string pattern, string value)
    {
        var parts = pattern.Split('*');
        if (parts.Length == 1)
        {
            return string.Equals(pattern, value, StringComparison.Ordinal);
        }

        if (!value.StartsWith(parts[0], StringComparison.Ordinal) || !value.EndsWith(parts[^1], StringComparison.Ordinal)
            || value.Length < parts[0].Length + parts[^1].Length)
        {
            return false;
        }

        var position = parts[0].Length;
        var end = value.Length - parts[^1].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = value.IndexOf(parts[i], position, end - position, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            position = found + parts[i].Length;
        }

        return true;
    }
}
