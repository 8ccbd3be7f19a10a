using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessages;

/// <summary>An Anthropic client's request, with the headers that say which API it speaks: an Anthropic upstream needs them back.</summary>
public sealed class AnthropicClientRequest : ClientRequest
{
    /// <summary>The client's <c>anthropic-version</c>; null when it sent none.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>The client's <c>anthropic-beta</c> (comma-separated features); null when it sent none.</summary>
    public string? Beta { get; init; }
}
