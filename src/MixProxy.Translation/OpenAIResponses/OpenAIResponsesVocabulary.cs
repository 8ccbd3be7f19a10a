using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIResponses;

/// <summary>
/// The OpenAI Responses API's wire vocabulary that the gateway's seams use: the protocol, its paths, where its key
/// goes, and the request fields read outside the translators.
/// </summary>
public static class OpenAIResponsesVocabulary
{
    /// <summary>The Responses API, as a model's <c>Protocols</c> names it (<c>"OpenAIResponses"</c>). Its errors are OpenAI's.</summary>
    public static WireProtocol Protocol { get; } = new("OpenAIResponses", "openai", OpenAIChatErrors.ReadFacts);

    public const string ResponsesPath = "/v1/responses";

    public const string EventStreamMediaType = "text/event-stream";

    /// <summary>The route value that holds a stored response's id in <c>/v1/responses/{id}</c>.</summary>
    public const string ResponseIdRouteValue = "response_id";

    // Request fields read to route, limit and store a request.
    public const string Model = "model";
    public const string Stream = "stream";
    public const string MaxOutputTokens = "max_output_tokens";
    public const string Store = "store";
    public const string PreviousResponseId = "previous_response_id";
    public const string Input = "input";
    public const string Include = "include";

    /// <summary>The <c>include</c> value that asks for reasoning items' <c>encrypted_content</c>.</summary>
    public const string IncludeEncryptedReasoning = "reasoning.encrypted_content";

    // Response fields read on passthrough.
    public const string Usage = "usage";
    public const string Output = "output";

    /// <summary>
    /// How a Responses stream reports usage: <c>response.usage</c> on its terminal event. Every whole stream ends with
    /// one of three terminal events (or an error event); one that ends without any was cut, whatever it sent before.
    /// </summary>
    public static StreamUsageDialect UsageDialect { get; } = new(
        "\"usage\""u8.ToArray(),
        ["\"response.completed\""u8.ToArray(), "\"response.incomplete\""u8.ToArray(), "\"response.failed\""u8.ToArray()],
        OpenAIResponsesUsage.ReadUsageObject);
}
