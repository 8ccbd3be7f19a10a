namespace MixProxy.Translation.Protocols;

/// <summary>Where an API key travels in a request.</summary>
public enum CredentialLocation
{
    Header,
    Query,
}

/// <summary>
/// One place a protocol's clients put their API key, and where an upstream of that protocol takes the gateway's own:
/// a header, optionally after a scheme (<c>Authorization: Bearer …</c>), or a query parameter.
/// </summary>
public sealed record CredentialSource(CredentialLocation Location, string Name, string? Scheme = null)
{
    /// <summary><c>Authorization: Bearer KEY</c> (RFC 6750), which several protocols share.</summary>
    public static CredentialSource BearerToken { get; } = new(CredentialLocation.Header, "Authorization", "Bearer");

    /// <summary>The key this source carries in <paramref name="head"/>, or null when it carries none.</summary>
    public string? Read(IRequestHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        var value = Location == CredentialLocation.Header ? head.Header(Name) : head.Query(Name);
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (Scheme is null)
        {
            return value;
        }

        return value.Length > Scheme.Length + 1 && value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) && value[Scheme.Length] == ' '
            ? value[(Scheme.Length + 1)..].Trim() is { Length: > 0 } key ? key : null
            : null;
    }

    /// <summary>The header or query value that carries <paramref name="secret"/> here.</summary>
    public string Format(string secret) => Scheme is null ? secret : Scheme + " " + secret;

    /// <summary>How a person would write it: <c>'Authorization: Bearer &lt;key&gt;'</c>, <c>'x-goog-api-key'</c>, <c>'?key='</c>.</summary>
    public string Describe() => Location == CredentialLocation.Query
        ? $"'?{Name}='"
        : Scheme is null ? $"'{Name}'" : $"'{Name}: {Scheme} <key>'";
}
