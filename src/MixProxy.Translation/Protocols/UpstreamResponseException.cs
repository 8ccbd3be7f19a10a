namespace MixProxy.Translation.Protocols;

/// <summary>
/// The upstream answered something the gateway can neither pass on nor translate (not JSON, a stream that is not one).
/// The host answers 502 in the client's protocol with this message; it is the upstream's fault, not the client's.
/// </summary>
public sealed class UpstreamResponseException : Exception
{
    public UpstreamResponseException(string message)
        : base(message)
    {
    }

    public UpstreamResponseException()
    {
    }

    public UpstreamResponseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
