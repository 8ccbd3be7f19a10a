using System.Buffers;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.GeminiToOpenAIChat;

/// <summary>
/// Gemini client, Chat Completions upstream: <c>generateContent</c> bodies become chat requests (streams ask for
/// usage); completions, chunks and OpenAI errors come back in Google's shapes, streamed as SSE or as one JSON array,
/// as the client asked. Token counting has no Chat Completions counterpart: 501.
/// </summary>
public sealed class GeminiToOpenAIChatExchange() : Exchange(GeminiClientApi.Instance, OpenAIChatVocabulary.Protocol)
{
    /// <summary>
    /// Token counting is refused (501) without reading the body; everything else is translated. No thought signature
    /// goes up, replayed or not: the request translator drops a Gemini client's.
    /// </summary>
    public override bool NeedsBody(ClientRequest request, bool replaySignatures)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Endpoint.Generates;
    }

    public override ExchangeCall Begin(ClientRequest request, ExchangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Endpoint.Generates)
        {
            throw new TranslationException(null, $"Model '{request.Model}' is served by an OpenAI-protocol upstream, which has no token-counting endpoint.", 501);
        }

        if (request.Document is not { } document)
        {
            throw new TranslationException(null, "The request body is empty.");
        }

        var body = new ArrayBufferWriter<byte>(request.Body.Length + 256);
        var dropped = new DroppedFields(settings.Model.StrictTranslation);
        GeminiToChatRequestTranslator.Translate(document.RootElement, settings.Model, request.Stream, body, dropped);
        var upstream = new UpstreamRequest(body.WrittenMemory, OpenAIChatVocabulary.ChatCompletionsPath, Query: []);
        var context = new ResponseContext { ClientModel = request.Model, Created = settings.Created, IncludeOutputText = settings.OutputText };
        return new Call(upstream, context, ((GeminiClientRequest)request).Sse) { Dropped = dropped.Names };
    }

    private sealed class Call(UpstreamRequest request, ResponseContext context, bool sse) : ExchangeCall(request)
    {
        public override bool RestatesErrors => true;

        public override TranslatedError TranslateError(int status, ReadOnlySpan<byte> body) => ChatToGeminiErrorTranslator.Translate(status, body);

        public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output)
        {
            // A body that is not JSON, or of a shape that cannot be translated, is an UpstreamResponseException (502);
            // anything else the translator throws is the gateway's bug and is left to surface as one.
            Outcome.Usage = ChatToGeminiResponseTranslator.Translate(body, context, output, Outcome);
            return "application/json";
        }

        public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken)
        {
            if (upstreamMediaType != OpenAIChatVocabulary.EventStreamMediaType)
            {
                throw new UpstreamResponseException($"The upstream answered a streaming request without {OpenAIChatVocabulary.EventStreamMediaType}.");
            }

            // Google serves SSE with ?alt=sse and one streamed JSON array without it; the client gets what it asked for.
            var translating = new TranslatingSseStream(upstream, new ChatToGeminiStreamTranslator(context, sse, Outcome), Outcome, cancellationToken);
            return new StreamReply(translating, sse ? GeminiVocabulary.EventStreamMediaType : "application/json; charset=UTF-8");
        }
    }
}
