namespace MixProxy.Translation.Protocols;

/// <summary>
/// What an upstream's error answer says about the upstream itself rather than about the request: how long it asks to
/// be left alone (Google's <c>RetryInfo</c>, say), and whether it refused the gateway's own credential (a bad key is
/// taken out of rotation; a busy one only cools down). The host reads the <c>Retry-After</c> headers itself.
/// </summary>
/// <param name="RetryAfter">The wait the body asks for; null when it names none.</param>
/// <param name="CredentialRejected">The upstream refused the gateway's key (not the client's request).</param>
public readonly record struct UpstreamErrorFacts(TimeSpan? RetryAfter, bool CredentialRejected)
{
    /// <summary>The facts of a status alone: 401 and 403 refuse the credential.</summary>
    public static UpstreamErrorFacts FromStatus(int status) => new(null, status is 401 or 403);
}

/// <summary>Reads an upstream's error body (status and bytes, possibly not JSON at all) into <see cref="UpstreamErrorFacts"/>.</summary>
public delegate UpstreamErrorFacts UpstreamErrorReader(int status, ReadOnlySpan<byte> body);
