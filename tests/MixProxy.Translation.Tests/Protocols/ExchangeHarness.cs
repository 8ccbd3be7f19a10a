using System.Buffers;
using System.Text;
using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>
/// Drives an exchange of the shipped registry as the gateway does, without HTTP: the client API parses the request,
/// the registry picks the exchange for the pair, the exchange prepares the upstream request and answers the upstream's
/// reply. Golden cases and specification tests all go through it, so they test the seam the host uses.
/// </summary>
public static class ExchangeHarness
{
    /// <summary>The model every Gemini client here asks for (in its URL), and the clock every translated reply shows.</summary>
    public const string GeminiClientModel = "gemini-3.1-pro-preview";
    public const long Created = 1_700_000_000;

    /// <summary>The golden pair folders: <c>Golden/&lt;pair&gt;/…</c>.</summary>
    public static IReadOnlyDictionary<string, (ClientApi Client, WireProtocol Upstream)> Pairs { get; } = new Dictionary<string, (ClientApi, WireProtocol)>
    {
        ["openai-chat-to-gemini"] = (OpenAIChatClientApi.Instance, GeminiVocabulary.Protocol),
        ["gemini-to-openai-chat"] = (GeminiClientApi.Instance, OpenAIChatVocabulary.Protocol),
        ["openai-chat-passthrough"] = (OpenAIChatClientApi.Instance, OpenAIChatVocabulary.Protocol),
        ["gemini-passthrough"] = (GeminiClientApi.Instance, GeminiVocabulary.Protocol),
        ["openai-responses-to-gemini"] = (OpenAIResponsesClientApi.Instance, GeminiVocabulary.Protocol),
        ["openai-responses-to-openai-chat"] = (OpenAIResponsesClientApi.Instance, OpenAIChatVocabulary.Protocol),
        ["openai-responses-passthrough"] = (OpenAIResponsesClientApi.Instance, OpenAIResponsesVocabulary.Protocol),
        ["anthropic-messages-to-gemini"] = (AnthropicMessagesClientApi.Instance, GeminiVocabulary.Protocol),
        ["anthropic-messages-to-openai-chat"] = (AnthropicMessagesClientApi.Instance, OpenAIChatVocabulary.Protocol),
        ["anthropic-messages-passthrough"] = (AnthropicMessagesClientApi.Instance, AnthropicMessagesVocabulary.Protocol),
    };

    public static Exchange ExchangeFor(string pair)
    {
        var (client, upstream) = Pairs[pair];
        return ProtocolRegistry.Default.FindExchange(client, [upstream]) ?? throw new InvalidOperationException($"No exchange for {pair}.");
    }

    /// <summary>
    /// Parses <paramref name="body"/> as the pair's client would send it (a Gemini client on the streaming or the plain
    /// endpoint; <paramref name="countTokens"/>: a Gemini or Anthropic client counting tokens).
    /// </summary>
    public static ClientRequest Parse(string pair, string body, bool stream = false, bool sse = true, bool countTokens = false)
    {
        var client = Pairs[pair].Client;
        var head = new FakeHead();
        ClientEndpoint endpoint;
        if (client is GeminiClientApi gemini)
        {
            head.RouteValues[GeminiVocabulary.ModelRouteValue] = GeminiClientModel;
            head.RouteValues[GeminiVocabulary.VersionRouteValue] = GeminiVocabulary.DefaultVersion;
            if (stream && sse)
            {
                head.QueryValues[GeminiVocabulary.AltQuery] = GeminiVocabulary.SseAlt;
            }

            endpoint = countTokens ? gemini.CountTokens : stream ? gemini.StreamGenerateContent : gemini.GenerateContent;
        }
        else if (client is AnthropicMessagesClientApi anthropic)
        {
            endpoint = countTokens ? anthropic.CountTokens : anthropic.Messages;
        }
        else
        {
            endpoint = client.Endpoints[0];
        }

        return client.Parse(endpoint, head, Encoding.UTF8.GetBytes(body));
    }

    /// <summary>A minimal request of the pair's client, for tests of the response side.</summary>
    public static ClientRequest MinimalRequest(string pair, bool stream, bool includeUsage = false, bool sse = true) =>
        Pairs[pair].Client is GeminiClientApi
            ? Parse(pair, """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""", stream, sse)
            : Pairs[pair].Client is AnthropicMessagesClientApi
            ? Parse(pair, $$"""{"model":"{{GeminiClientModel}}","max_tokens":1024,"messages":[{"role":"user","content":"Hi"}],"stream":{{(stream ? "true" : "false")}}}""")
            : Pairs[pair].Client is OpenAIResponsesClientApi
            ? Parse(pair, $$"""{"model":"{{GeminiClientModel}}","input":"Hi","store":false,"stream":{{(stream ? "true" : "false")}}}""")
            : Parse(pair, $$"""{"model":"{{GeminiClientModel}}","messages":[{"role":"user","content":"Hi"}],"stream":{{(stream ? "true" : "false")}}{{(includeUsage ? ",\"stream_options\":{\"include_usage\":true}" : "")}}}""");

    public static ExchangeCall Begin(string pair, ClientRequest request, UpstreamModelProfile profile) => Begin(pair, request, Settings(profile));

    public static ExchangeCall Begin(string pair, ClientRequest request, ExchangeSettings settings) => ExchangeFor(pair).Begin(request, settings);

    /// <summary>The settings of a request to <paramref name="profile"/> as the host gives them by default.</summary>
    public static ExchangeSettings Settings(UpstreamModelProfile profile) => new() { Model = profile, Created = Created };

    /// <summary>The body the upstream gets: the exchange's own, else the client's as it came.</summary>
    public static ReadOnlyMemory<byte> UpstreamBody(ExchangeCall call, ClientRequest request) => call.Request.Body ?? request.Body;

    /// <summary>The client's body for a whole upstream reply (the upstream's own when the exchange passes it on).</summary>
    public static byte[] TranslateResponse(ExchangeCall call, string upstreamReply)
    {
        var output = new ArrayBufferWriter<byte>();
        var body = Encoding.UTF8.GetBytes(upstreamReply);
        return call.TranslateResponse(body, "application/json", output) is null ? body : output.WrittenSpan.ToArray();
    }

    /// <summary>The client's stream for an upstream SSE body.</summary>
    public static async Task<string> TranslateStreamAsync(ExchangeCall call, string upstreamSse, CancellationToken cancellationToken)
    {
        using var upstream = new MemoryStream(Encoding.UTF8.GetBytes(upstreamSse));
        var reply = call.TranslateStream(upstream, "text/event-stream", cancellationToken);
        await using var translated = reply.Body;
        using var reader = new StreamReader(translated, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    /// <summary>A request head with the route values and query a test gives it.</summary>
    public sealed class FakeHead : IRequestHead
    {
        public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

        public Dictionary<string, string> QueryValues { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> RouteValues { get; } = new(StringComparer.Ordinal);

        public string Path { get; set; } = "/";

        public long? ContentLength { get; set; }

        public string? Header(string name) => Headers.GetValueOrDefault(name);

        public string? Query(string name) => QueryValues.GetValueOrDefault(name);

        public string? RouteValue(string name) => RouteValues.GetValueOrDefault(name);
    }
}
