using System.Buffers;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>
/// Chat Completions client, Gemini upstream: the request becomes a <c>generateContent</c> (or, streamed,
/// <c>streamGenerateContent?alt=sse</c>) body; whole responses, SSE events and Google errors come back in OpenAI's
/// shapes. Thought signatures the client dropped are restored from the host's memory by tool-call id.
/// </summary>
public sealed class OpenAIChatToGeminiExchange() : Exchange(OpenAIChatClientApi.Instance, GeminiVocabulary.Protocol)
{
    private static readonly KeyValuePair<string, string>[] SseQuery = [new(GeminiVocabulary.AltQuery, GeminiVocabulary.SseAlt)];

    public override bool NeedsBody(ClientRequest request, bool replaySignatures) => true;

    public override IReadOnlyList<string> SignaturesToRecall(ClientRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Document is { } document ? ChatToGeminiRequestTranslator.UnsignedToolCallIds(document.RootElement) : [];
    }

    public override ExchangeCall Begin(ClientRequest request, ExchangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new ArrayBufferWriter<byte>(request.Body.Length + 256);
        var dropped = new DroppedFields(settings.Model.StrictTranslation);
        var facts = ChatToGeminiRequestTranslator.Translate(request.Document!.RootElement, settings.Model, body, settings.KnownSignatures, settings.ReplaySignatures, dropped);
        var method = request.Stream ? GeminiVocabulary.StreamGenerateContent : GeminiVocabulary.GenerateContent;
        var upstream = new UpstreamRequest(body.WrittenMemory, GeminiVocabulary.Path(settings.Model.UpstreamModel, method), request.Stream ? SseQuery : []);
        return new Call(upstream, new ResponseContext
        {
            ClientModel = request.Model,
            Created = settings.Created,
            IncludeOutputText = settings.OutputText,
            IncludeUsage = request.WantsStreamUsage,
            SearchGrounding = facts.GoogleSearch,
        }, facts) { Dropped = dropped.Names };
    }

    private sealed class Call(UpstreamRequest request, ResponseContext context, GeminiRequestFacts facts) : ExchangeCall(request)
    {
        public override bool RestatesErrors => true;

        public override TranslatedError TranslateError(int status, ReadOnlySpan<byte> body) => GeminiToChatErrorTranslator.Translate(status, body);

        public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output)
        {
            // A body that is not JSON, or of a shape that cannot be translated, is an UpstreamResponseException (502);
            // anything else the translator throws is the gateway's bug and is left to surface as one.
            Outcome.Usage = GeminiToChatResponseTranslator.Translate(body, context, output, Outcome.IssuedSignatures, facts.OneCallPerStep, Outcome);
            return "application/json";
        }

        public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken)
        {
            if (upstreamMediaType != GeminiVocabulary.EventStreamMediaType)
            {
                // Asked for SSE, got something else: translating it as an empty stream would hide the fault.
                throw new UpstreamResponseException($"The upstream answered a streaming request with '{upstreamMediaType ?? "no content type"}' instead of {GeminiVocabulary.EventStreamMediaType}.");
            }

            var translating = new TranslatingSseStream(upstream, new GeminiToChatStreamTranslator(context, Outcome, facts.OneCallPerStep), Outcome, cancellationToken);
            return new StreamReply(translating, OpenAIChatVocabulary.EventStreamMediaType + "; charset=utf-8", NoCache: true);
        }
    }
}

/// <summary>What translating a chat request into a Gemini request decided that the response side needs to know.</summary>
/// <param name="GoogleSearch">
/// The request turned on Google Search, so the answer may carry grounding: a stream translator then keeps each
/// choice's text, because the grounding offsets arrive only at the end and refer to the whole text.
/// </param>
/// <param name="OneCallPerStep">
/// The client sent <c>parallel_tool_calls: false</c>, which Gemini cannot be asked for: the answer keeps each
/// choice's first function call and leaves out the calls after it.
/// </param>
public sealed record GeminiRequestFacts(bool GoogleSearch, bool OneCallPerStep = false);
