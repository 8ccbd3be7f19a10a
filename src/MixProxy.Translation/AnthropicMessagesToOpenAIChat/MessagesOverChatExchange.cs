using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>
/// An Anthropic client on an upstream reached through Chat Completions. The request becomes a Chat Completions
/// request (<see cref="AnthropicToChatRequestTranslator"/>), which the Chat client's own exchange for that upstream
/// takes on (<paramref name="chat"/>: passed through to a Chat upstream, or translated to Gemini); its answer, a Chat
/// response, stream or error, becomes the Anthropic one. So every fidelity rule of the Chat pairs (thought signatures,
/// grounding, structured output, refusals of what an upstream lacks) holds here by construction, at the cost of a
/// second, cheap rewrite of each body and event. <paramref name="towardsGemini"/>: the Chat side goes on to Gemini,
/// which takes Google's thinking settings and needs its thought signatures back (sealed in thinking blocks, or
/// recalled from the host's memory by tool-use id where the client showed no thinking).
/// </summary>
public abstract class MessagesOverChatExchange(Exchange chat, bool towardsGemini) : Exchange(AnthropicMessagesClientApi.Instance, chat.Upstream)
{
    public override bool NeedsBody(ClientRequest request, bool replaySignatures) => true;

    public override IReadOnlyList<string> SignaturesToRecall(ClientRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        // Only Gemini takes signatures back; a Chat upstream is given none.
        return towardsGemini && request.Document is { } document ? AnthropicToChatMessages.UnsignedToolUseIds(document.RootElement) : [];
    }

    public override ExchangeCall Begin(ClientRequest request, ExchangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        var counting = !request.Endpoint.Generates;
        if (counting && !towardsGemini)
        {
            throw new TranslationException(null, $"Model '{request.Model}' is served by an OpenAI-protocol upstream, which has no token-counting endpoint.", 501);
        }

        var root = request.Document!.RootElement;
        var dropped = new DroppedFields(settings.Model.StrictTranslation);
        var chatBody = new ArrayBufferWriter<byte>(request.Body.Length + 256);
        var facts = AnthropicToChatRequestTranslator.Translate(root, request.Model, settings.Model, towardsGemini, counting, dropped, chatBody);

        var (inner, translated) = ChatBridge.Begin(chat, request, chatBody, settings, AnthropicParam);
        IReadOnlyList<string> allDropped = [.. dropped.Names, .. inner.Dropped.Select(param => AnthropicParam(param)!)];
        if (counting)
        {
            return BeginCount(translated, inner, settings) ?? throw new InvalidOperationException($"{this} counts no tokens.");
        }

        var context = new AnthropicReplyContext
        {
            MessageId = AnthropicMessagesVocabulary.NewId("msg_"),
            ClientModel = request.Model,
            ShowsThinking = facts.ShowsThinking,
        };
        return new Call(translated, inner, context) { Dropped = allDropped };
    }

    /// <summary>
    /// The token-counting call for <paramref name="generation"/>, the upstream request a generation of the same
    /// input would send; null where the upstream cannot count.
    /// </summary>
    protected virtual ExchangeCall? BeginCount(UpstreamRequest generation, ExchangeCall inner, ExchangeSettings settings) => null;

    /// <summary>
    /// The Anthropic field a Chat Completions field was written from: <c>tools[i].function.x</c> from
    /// <c>tools[i].x</c>, a message from <c>messages</c>; the output cap, stops and Google's thinking settings from
    /// theirs; a field both APIs name alike, itself.
    /// </summary>
    internal static string? AnthropicParam(string? chatParam) => chatParam switch
    {
        null => null,
        _ when chatParam.StartsWith("messages", StringComparison.Ordinal) => "messages",
        _ when chatParam.StartsWith("tools[", StringComparison.Ordinal) && chatParam.Contains("].function", StringComparison.Ordinal) =>
            chatParam.Replace("].function.parameters", "].input_schema", StringComparison.Ordinal).Replace("].function.", "].", StringComparison.Ordinal).Replace("].function", "]", StringComparison.Ordinal),
        _ when chatParam.StartsWith("response_format", StringComparison.Ordinal) => "output_config.format",
        "max_completion_tokens" or "max_tokens" => "max_tokens",
        "stop" => "stop_sequences",
        "user" => "metadata.user_id",
        "reasoning_effort" => "output_config.effort",
        _ when chatParam.StartsWith("extra_body", StringComparison.Ordinal) => "thinking",
        _ => chatParam,
    };

    private sealed class Call(UpstreamRequest request, ExchangeCall chat, AnthropicReplyContext context) : ExchangeCall(request, chat.Outcome)
    {
        // Errors always come back in Anthropic's shape, whether the Chat side restates them or passes them through.
        public override bool RestatesErrors => true;

        public override TranslatedError TranslateError(int status, ReadOnlySpan<byte> body)
        {
            if (!chat.RestatesErrors)
            {
                return ChatToAnthropicErrorTranslator.Translate(status, body, retryAfter: null);
            }

            var restated = chat.TranslateError(status, body);
            return ChatToAnthropicErrorTranslator.Translate(restated.StatusCode, restated.Body, restated.RetryAfter);
        }

        public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output)
        {
            // The Chat body lives only until it is read again just below: its buffer comes from the pool.
            using var translated = new PooledBufferWriter();
            var chatBody = chat.TranslateResponse(body, upstreamContentType, translated) is null ? body : translated.WrittenSpan;
            ChatToAnthropicResponseTranslator.Translate(chatBody, context, output);
            return "application/json";
        }

        public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken)
        {
            var chatStream = chat.TranslateStream(upstream, upstreamMediaType, cancellationToken);
            var translating = new TranslatingSseStream(chatStream.Body, new ChatToAnthropicStreamTranslator(context), Outcome, cancellationToken) { Outermost = true };
            return new StreamReply(translating, AnthropicMessagesVocabulary.EventStreamMediaType + "; charset=utf-8", NoCache: true);
        }
    }
}
