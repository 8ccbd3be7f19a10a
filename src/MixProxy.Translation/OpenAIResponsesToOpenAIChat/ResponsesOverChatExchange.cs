using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>
/// A Responses client on an upstream reached through Chat Completions. The request becomes a Chat Completions request
/// (<see cref="ResponsesToChatRequestTranslator"/>), which the Chat client's own exchange for that upstream takes on
/// (<paramref name="chat"/>: passed through to a Chat upstream, or translated to Gemini); its answer, a Chat response,
/// stream or error, becomes the Responses one. So every fidelity rule of the Chat pairs (thought signatures, grounding,
/// structured output, refusals of what an upstream lacks) holds here by construction, at the cost of a second, cheap
/// rewrite of each body and event. The gateway stores the responses (<c>store</c>) and continues them
/// (<c>previous_response_id</c>), since no upstream behind this bridge can. <paramref name="towardsGemini"/>: the Chat
/// side goes on to Gemini, which shows thought summaries (<c>reasoning.summary</c>) through Google's extension and
/// needs its thought signatures back (recalled from the host's memory where the client dropped them).
/// </summary>
public abstract class ResponsesOverChatExchange(Exchange chat, bool towardsGemini) : Exchange(OpenAIResponsesClientApi.Instance, chat.Upstream)
{
    public override bool NeedsBody(ClientRequest request, bool replaySignatures) => true;

    public override bool UsesStoredResults => true;

    public override IReadOnlyList<string> SignaturesToRecall(ClientRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        // A continued conversation's own items were stored with their signatures; only the request's need recalling,
        // and only for Gemini: a Chat upstream is not given recalled signatures.
        return towardsGemini && request.Document is { } document ? ResponsesToChatRequestTranslator.UnsignedCallIds(document.RootElement, prior: null) : [];
    }

    public override ExchangeCall Begin(ClientRequest request, ExchangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        var responses = (ResponsesClientRequest)request;
        var root = request.Document!.RootElement;

        JsonDocument? prior = null;
        if (request.PriorResultId is { } previous)
        {
            var found = settings.PriorResult ?? throw new TranslationException(OpenAIResponsesVocabulary.PreviousResponseId, $"Previous response with id '{previous}' not found.");
            prior = ResponsesRecord.Parse(found.Record.Span);
        }

        using (prior)
        {
            var priorContext = prior?.RootElement.GetProperty(ResponsesRecord.Context);
            var chatBody = new ArrayBufferWriter<byte>(request.Body.Length + 256);
            var dropped = new DroppedFields(settings.Model.StrictTranslation);
            var facts = ResponsesToChatRequestTranslator.Translate(root, priorContext, request.Model, chatBody, googleThoughts: towardsGemini, dropped);

            var (inner, request2) = ChatBridge.Begin(chat, request, chatBody, settings, ResponsesParam);

            var context = new ResponsesReplyContext
            {
                ResponseId = ResponsesRecord.NewId(ResponsesRecord.ResponseIdPrefix),
                CreatedAt = settings.Created,
                ClientModel = request.Model,
                Echo = ResponsesEcho.Of(root, responses.Store),
                IncludeEncryptedReasoning = responses.IncludeEncryptedReasoning,
                OutputText = settings.OutputText,
                // Cast: a bare null would convert through byte[] to an empty memory, not to "none".
                StoredInput = responses.Store ? ResponsesEcho.InputItems(root) : (ReadOnlyMemory<byte>?)null,
                PriorContext = priorContext is { } context2 ? JsonMarshal.GetRawUtf8Value(context2).ToArray() : (ReadOnlyMemory<byte>?)null,
                WebSearch = facts.WebSearch,
            };
            // What the Chat side dropped and reported, named as this client wrote it (text.verbosity, not verbosity).
            return new Call(request2, inner, context) { Dropped = [.. dropped.Names, .. inner.Dropped.Select(param => ResponsesParam(param)!)] };
        }
    }

    /// <summary>
    /// The Responses field a Chat Completions field was written from: <c>tools[i].function.name</c> from
    /// <c>tools[i].name</c>, <c>response_format</c> from <c>text.format</c>; a message (which may merge several items)
    /// from <c>input</c>; a field both APIs name alike, itself.
    /// </summary>
    internal static string? ResponsesParam(string? chatParam) => chatParam switch
    {
        null => null,
        _ when chatParam.StartsWith("messages", StringComparison.Ordinal) => OpenAIResponsesVocabulary.Input,
        _ when chatParam.StartsWith("tools[", StringComparison.Ordinal) && chatParam.Contains("].function", StringComparison.Ordinal) =>
            chatParam.Replace("].function.", "].", StringComparison.Ordinal).Replace("].function", "]", StringComparison.Ordinal),
        _ when chatParam.StartsWith("response_format", StringComparison.Ordinal) => "text.format" + chatParam["response_format".Length..].Replace(".json_schema", string.Empty, StringComparison.Ordinal),
        "reasoning_effort" => "reasoning.effort",
        "max_completion_tokens" or "max_tokens" => OpenAIResponsesVocabulary.MaxOutputTokens,
        "verbosity" => "text.verbosity",
        _ when chatParam.StartsWith("extra_body", StringComparison.Ordinal) => "reasoning",
        _ => chatParam,
    };

    private sealed class Call(UpstreamRequest request, ExchangeCall chat, ResponsesReplyContext context) : ExchangeCall(request, chat.Outcome)
    {
        public override bool RestatesErrors => chat.RestatesErrors;

        // OpenAI's error shape is the same for both APIs: the Chat side's errors are already this client's.
        public override TranslatedError TranslateError(int status, ReadOnlySpan<byte> body) => chat.TranslateError(status, body);

        public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output)
        {
            // The Chat body lives only until it is read again just below: its buffer comes from the pool.
            using var translated = new PooledBufferWriter();
            var chatBody = chat.TranslateResponse(body, upstreamContentType, translated) is null ? body : translated.WrittenSpan;
            var reply = ChatToResponsesResponseTranslator.Translate(chatBody, context, output);
            if (context.StoredInput is not null && reply.Status != "failed")
            {
                Outcome.ResultToStore = ResponsesWriting.Record(context, reply);
            }

            return "application/json";
        }

        public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken)
        {
            var chatStream = chat.TranslateStream(upstream, upstreamMediaType, cancellationToken);
            var translating = new TranslatingSseStream(chatStream.Body, new ChatToResponsesStreamTranslator(context, Outcome), Outcome, cancellationToken) { Outermost = true };
            return new StreamReply(translating, OpenAIResponsesVocabulary.EventStreamMediaType + "; charset=utf-8", NoCache: true);
        }
    }
}

/// <summary>Responses client, Chat Completions upstream: the Responses request is sent as the Chat request it translates to.</summary>
public sealed class OpenAIResponsesToOpenAIChatExchange() : ResponsesOverChatExchange(new OpenAIChatPassthroughExchange(), towardsGemini: false);
