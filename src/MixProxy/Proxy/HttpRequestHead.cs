using MixProxy.Translation.Protocols;

namespace MixProxy.Proxy;

/// <summary>An ASP.NET request as the protocol library may read it: path, headers, query and route values.</summary>
internal sealed class HttpRequestHead(HttpRequest request) : IRequestHead
{
    public string Path => request.Path.Value ?? string.Empty;

    public long? ContentLength => request.ContentLength;

    public string? Header(string name) => request.Headers.TryGetValue(name, out var values) && values.Count > 0 ? values.ToString() : null;

    public string? Query(string name) => request.Query.TryGetValue(name, out var values) && values.Count > 0 ? values.ToString() : null;

    public string? RouteValue(string name) => request.RouteValues.TryGetValue(name, out var value) ? value?.ToString() : null;
}
