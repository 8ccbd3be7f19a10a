namespace MixProxy.Translation.Protocols;

/// <summary>
/// A wire protocol an upstream speaks. Each protocol folder defines its own instance; a model's <c>Protocols</c> in the
/// config file names them, and the <see cref="ProtocolRegistry"/> pairs them with the client APIs.
/// </summary>
public sealed class WireProtocol(string name, string providerName)
{
    /// <summary>The name the config file uses in a model's <c>Protocols</c> list.</summary>
    public string Name { get; } = name;

    /// <summary>The OpenTelemetry <c>gen_ai.provider.name</c> of an upstream that speaks it.</summary>
    public string ProviderName { get; } = providerName;

    public override string ToString() => Name;
}
