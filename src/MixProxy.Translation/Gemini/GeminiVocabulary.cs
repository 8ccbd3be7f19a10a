using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.Gemini;

/// <summary>
/// Gemini's wire vocabulary that the gateway's seams use: the protocol, its paths and methods, where its key goes,
/// the query that makes a stream SSE, and the fields read outside the translators.
/// </summary>
public static class GeminiVocabulary
{
    /// <summary>Gemini <c>generateContent</c>, as a model's <c>Protocols</c> names it (<c>"Gemini"</c>).</summary>
    public static WireProtocol Protocol { get; } = new("Gemini", "gcp.gemini", GoogleErrors.ReadFacts);

    public const string GenerateContent = "generateContent";
    public const string StreamGenerateContent = "streamGenerateContent";
    public const string CountTokens = "countTokens";

    public const string DefaultVersion = "v1beta";

    /// <summary>The route values that the gateway's Gemini routes capture: <c>/{version}/models/{model}:method</c>.</summary>
    public const string VersionRouteValue = "version";
    public const string ModelRouteValue = "model";

    /// <summary>The query parameter and value that ask for SSE; without it Gemini streams one JSON array.</summary>
    public const string AltQuery = "alt";
    public const string SseAlt = "sse";

    public const string EventStreamMediaType = "text/event-stream";

    public const string ApiKeyHeader = "x-goog-api-key";
    public const string ApiKeyQuery = "key";

    /// <summary><c>x-goog-api-key: KEY</c>, for clients and upstreams alike.</summary>
    public static CredentialSource ApiKeyHeaderCredential { get; } = new(CredentialLocation.Header, ApiKeyHeader);

    /// <summary><c>?key=KEY</c>, as Google's REST examples send it.</summary>
    public static CredentialSource ApiKeyQueryCredential { get; } = new(CredentialLocation.Query, ApiKeyQuery);

    // Request fields read to limit a request.
    public const string GenerationConfig = "generationConfig";
    public const string MaxOutputTokens = "maxOutputTokens";

    // Response fields read on passthrough.
    public const string UsageMetadata = "usageMetadata";
    public const string Candidates = "candidates";
    public const string FinishReason = "finishReason";

    /// <summary>How a Gemini stream reports usage: <c>usageMetadata</c> on every chunk; a complete stream names a <c>finishReason</c>.</summary>
    public static StreamUsageDialect UsageDialect { get; } = new("\"usageMetadata\""u8.ToArray(), ["\"finishReason\""u8.ToArray()], GeminiUsage.ReadUsageObject);

    /// <summary>The upstream path; the model is escaped so that no name can reach another path (<c>../</c>, <c>/</c>, <c>?</c>).</summary>
    public static string Path(string model, string method, string version = DefaultVersion) => $"/{version}/models/{Uri.EscapeDataString(model)}:{method}";
}
