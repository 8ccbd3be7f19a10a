namespace MixProxy.Translation.Protocols;

/// <summary>
/// A client request the gateway refuses, found by validation: malformed, or not translatable without changing its
/// meaning. The host turns it into a 400 (or <see cref="StatusCode"/>) in the client's own protocol, naming
/// <see cref="Param"/>. Anything else a translator throws is a gateway bug and surfaces as one (500, logged).
/// </summary>
public sealed class TranslationException : Exception
{
    public TranslationException(string? param, string message, int statusCode = 400)
        : base(message)
    {
        Param = param;
        StatusCode = statusCode;
    }

    public TranslationException()
    {
    }

    public TranslationException(string message)
        : base(message)
    {
    }

    public TranslationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The offending request field in the client's notation, e.g. <c>messages[2].content</c>.</summary>
    public string? Param { get; }

    public int StatusCode { get; } = 400;
}
