using System.Security.Cryptography;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessages;

/// <summary>
/// The Anthropic Messages API's wire vocabulary that the gateway's seams use: the protocol, its paths, its headers,
/// where its key goes, and the request and response fields read outside the translators.
/// </summary>
public static class AnthropicMessagesVocabulary
{
    /// <summary>The Anthropic Messages API, as a model's <c>Protocols</c> names it (<c>"Anthropic"</c>).</summary>
    public static WireProtocol Protocol { get; } = new("Anthropic", "anthropic", AnthropicErrors.ReadFacts);

    public const string MessagesPath = "/v1/messages";
    public const string CountTokensPath = "/v1/messages/count_tokens";

    public const string EventStreamMediaType = "text/event-stream";

    /// <summary>The header Anthropic's SDKs send their key in.</summary>
    public const string ApiKeyHeader = "x-api-key";

    /// <summary>The API version every Anthropic client sends; it marks a request as an Anthropic client's.</summary>
    public const string VersionHeader = "anthropic-version";

    /// <summary>Beta features a client opts into; accepted, and passed on to Anthropic upstreams.</summary>
    public const string BetaHeader = "anthropic-beta";

    /// <summary>
    /// The version an Anthropic upstream gets for a client that sent none (one that reached the gateway on
    /// <c>/v1/messages</c> without the header): the API's first stable version, which every Anthropic endpoint takes.
    /// </summary>
    public const string DefaultVersion = "2023-06-01";

    /// <summary><c>x-api-key: KEY</c>, for clients and upstreams alike.</summary>
    public static CredentialSource ApiKeyCredential { get; } = new(CredentialLocation.Header, ApiKeyHeader);

    // Request fields read to route and limit a request.
    public const string Model = "model";
    public const string Stream = "stream";
    public const string MaxTokens = "max_tokens";

    // Response fields read on passthrough.
    public const string Usage = "usage";

    private static readonly char[] IdAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".ToCharArray();

    /// <summary>A fresh id with Anthropic's prefix for messages (<c>msg_</c>) or tool uses (<c>toolu_</c>): 24 random base-62 characters.</summary>
    public static string NewId(string prefix) => prefix + RandomNumberGenerator.GetString(IdAlphabet, 24);
}
