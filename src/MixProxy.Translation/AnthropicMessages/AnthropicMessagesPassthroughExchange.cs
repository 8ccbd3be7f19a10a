using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.AnthropicMessages;

/// <summary>
/// Anthropic client, Anthropic upstream. The body goes up as sent but for the model name when an alias maps it, to
/// the client's own path and query (<c>/v1/messages</c>, <c>/count_tokens</c>, <c>?beta=true</c>); the upstream
/// takes the gateway's key as <c>x-api-key</c> (cluster setting <c>XApiKey</c>), and <c>anthropic-version</c> and
/// <c>anthropic-beta</c> reach it where the cluster forwards them. Responses, streams and errors come back as the
/// upstream wrote them, their usage read on the way.
/// </summary>
public sealed class AnthropicMessagesPassthroughExchange() : Exchange(AnthropicMessagesClientApi.Instance, AnthropicMessagesVocabulary.Protocol)
{
    private static readonly JsonPathPattern ModelPath = JsonPathPattern.Parse(AnthropicMessagesVocabulary.Model);

    public override bool NeedsBody(ClientRequest request, bool replaySignatures) => true;

    public override ExchangeCall Begin(ClientRequest request, ExchangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        var upstreamModel = settings.Model.UpstreamModel;
        ReadOnlyMemory<byte>? body = null;
        if (upstreamModel != request.Model)
        {
            body = JsonStringSplice.ReplaceStrings(request.Body.Span, ModelPath, JsonSerializer.SerializeToUtf8Bytes(upstreamModel));
        }

        return new Call(body is null ? UpstreamRequest.Unchanged : new UpstreamRequest(body, Path: null, Query: null));
    }

    private sealed class Call(UpstreamRequest request) : ExchangeCall(request)
    {
        public override bool RestatesErrors => false;

        // content is a list of blocks: the provider page's output.text has no place to go, so nothing is added.
        public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output) =>
            PassthroughResponse.Read(body, upstreamContentType, output, Outcome, outputText: false, AnthropicUsage.Read, static _ => string.Empty);

        public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken) =>
            new(new TranslatingSseStream(upstream, new AnthropicStreamUsageFilter(Outcome), Outcome, cancellationToken), ContentType: null);
    }
}
