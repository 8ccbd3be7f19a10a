namespace MixProxy.Translation.Protocols;

/// <summary>
/// A wire protocol an upstream speaks. Each protocol folder defines its own instance; a model's <c>Protocols</c> in the
/// config file names them, and the <see cref="ProtocolRegistry"/> pairs them with the client APIs.
/// </summary>
/// <param name="name">The name the config file uses in a model's <c>Protocols</c> list.</param>
/// <param name="providerName">The OpenTelemetry <c>gen_ai.provider.name</c> of an upstream that speaks it.</param>
/// <param name="errors">Reads what the protocol's error bodies say about the upstream; by default only the status counts.</param>
public sealed class WireProtocol(string name, string providerName, UpstreamErrorReader? errors = null)
{
    private readonly UpstreamErrorReader _errors = errors ?? ((status, _) => UpstreamErrorFacts.FromStatus(status));

    /// <summary>The name the config file uses in a model's <c>Protocols</c> list.</summary>
    public string Name { get; } = name;

    /// <summary>The OpenTelemetry <c>gen_ai.provider.name</c> of an upstream that speaks it.</summary>
    public string ProviderName { get; } = providerName;

    /// <summary>What an error answer of an upstream speaking this protocol says about that upstream (never throws).</summary>
    public UpstreamErrorFacts ReadError(int status, ReadOnlySpan<byte> body) => _errors(status, body);

    public override string ToString() => Name;
}
