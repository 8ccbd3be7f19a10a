namespace MixProxy.Translation.Protocols;

/// <summary>
/// The fields of a client's request that its upstream gets without, because the upstream has no place for them and
/// they do not change what the request asks: sampling hints such as Gemini's <c>topK</c> on a Chat Completions
/// upstream. They are dropped and reported (a response header, a metric), so that real clients that send them on
/// every request (Google's Gemini CLI sends <c>topK: 64</c>) work. A model set to <c>StrictTranslation</c> refuses
/// them instead. Anything that changes what the request means is refused, never dropped: see docs/translation.md.
/// </summary>
public sealed class DroppedFields(bool strict)
{
    private List<string>? _names;

    /// <summary>Refuse instead of dropping (<see cref="UpstreamModelProfile.StrictTranslation"/>).</summary>
    public bool Strict { get; } = strict;

    /// <summary>The dropped fields, in the client's notation, in the order they were met.</summary>
    public IReadOnlyList<string> Names => _names ?? (IReadOnlyList<string>)[];

    /// <summary>
    /// Leaves <paramref name="param"/> out of the upstream request and reports it; throws
    /// <see cref="TranslationException"/> with <paramref name="why"/> when the model is strict.
    /// </summary>
    public void Drop(string param, string why)
    {
        ArgumentNullException.ThrowIfNull(param);
        if (Strict)
        {
            throw new TranslationException(param, why + " (This model refuses what its upstream cannot take instead of dropping it: StrictTranslation.)");
        }

        (_names ??= []).Add(param);
    }

    /// <summary>A field's name without its array positions (<c>contents[].parts[].x</c>): a bounded label for metrics.</summary>
    public static string Shape(string param)
    {
        ArgumentNullException.ThrowIfNull(param);
        var shape = new System.Text.StringBuilder(param.Length);
        var inIndex = false;
        foreach (var c in param)
        {
            if (c == '[')
            {
                inIndex = true;
                shape.Append("[]");
            }
            else if (c == ']')
            {
                inIndex = false;
            }
            else if (!inIndex)
            {
                shape.Append(c);
            }
        }

        return shape.ToString();
    }
}
