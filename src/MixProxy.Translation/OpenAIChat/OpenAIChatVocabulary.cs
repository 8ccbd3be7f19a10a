using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>
/// OpenAI Chat Completions' wire vocabulary that the gateway's seams use: the protocol, its path, where its key
/// goes, and the request and response fields read outside the translators. Nothing outside this library spells them.
/// </summary>
public static class OpenAIChatVocabulary
{
    /// <summary>OpenAI Chat Completions, as a model's <c>Protocols</c> names it (<c>"OpenAI"</c>).</summary>
    public static WireProtocol Protocol { get; } = new("OpenAI", "openai", OpenAIChatErrors.ReadFacts);

    public const string ChatCompletionsPath = "/v1/chat/completions";

    public const string EventStreamMediaType = "text/event-stream";

    /// <summary><c>Authorization: Bearer KEY</c>, for clients and upstreams alike.</summary>
    public static CredentialSource BearerCredential => CredentialSource.BearerToken;

    // Request fields read to route and limit a request.
    public const string Model = "model";
    public const string Stream = "stream";
    public const string StreamOptions = "stream_options";
    public const string IncludeUsage = "include_usage";
    public const string MaxCompletionTokens = "max_completion_tokens";
    public const string MaxTokens = "max_tokens";

    // Response fields read on passthrough.
    public const string Usage = "usage";
    public const string Choices = "choices";
    public const string Error = "error";

    /// <summary>How a Chat Completions stream reports usage: a <c>usage</c> object on its last chunk; no finish marker is relied on.</summary>
    public static StreamUsageDialect UsageDialect { get; } = new("\"usage\""u8.ToArray(), FinishKeys: null, OpenAIChatUsage.ReadUsageObject);
}
