namespace MixProxy.Translation.Protocols;

/// <summary>
/// What a client API may read of an HTTP request besides its body. The host adapts its own request type to it, so the
/// protocols stay free of ASP.NET while owning their vocabulary (where a key goes, which query asks for SSE).
/// </summary>
public interface IRequestHead
{
    string Path { get; }

    /// <summary>The declared body length, when the client sent one.</summary>
    long? ContentLength { get; }

    /// <summary>A header's value; null when absent.</summary>
    string? Header(string name);

    /// <summary>A query parameter's value; null when absent.</summary>
    string? Query(string name);

    /// <summary>A value the route's path pattern captured (<c>{model}</c>, say); null when the pattern has none.</summary>
    string? RouteValue(string name);
}
