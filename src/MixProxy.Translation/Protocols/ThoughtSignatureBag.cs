namespace MixProxy.Translation.Protocols;

/// <summary>
/// Gemini thought signatures by tool-call id. Response translators fill one with the signatures the upstream
/// issued; the request translator reads one to restore signatures a client dropped (clients that rebuild the
/// history without Google's <c>extra_content</c>). The host persists it between turns.
/// </summary>
public sealed class ThoughtSignatureBag
{
    private readonly Dictionary<string, string> _signatures = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Items => _signatures;

    public void Add(string toolCallId, string signature) => _signatures[toolCallId] = signature;

    public bool TryGet(string toolCallId, out string signature) => _signatures.TryGetValue(toolCallId, out signature!);
}
