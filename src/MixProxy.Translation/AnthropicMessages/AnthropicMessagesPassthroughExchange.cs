using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.AnthropicMessages;

/// <summary>
/// Anthropic client, Anthropic upstream. The body goes up as sent but for the model name when an alias maps it, to
/// the client's own path and query (<c>/v1/messages</c>, <c>/count_tokens</c>, <c>?beta=true</c>); the upstream
/// takes the gateway's key as <c>x-api-key</c> (cluster setting <c>XApiKey</c>), and the client's
/// <c>anthropic-version</c> (or <see cref="AnthropicMessagesVocabulary.DefaultVersion"/>) and <c>anthropic-beta</c>
/// always: Anthropic refuses a request without a version, whatever headers the cluster forwards. Responses, streams and
/// errors come back as the upstream wrote them, their usage read on the way.
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

        // The canonical path, not the client's spelling of it (/V1/MESSAGES/ matches the route too).
        var path = request.Endpoint.Generates ? AnthropicMessagesVocabulary.MessagesPath : AnthropicMessagesVocabulary.CountTokensPath;
        var client = request as AnthropicClientRequest;
        List<KeyValuePair<string, string>> headers = [new(AnthropicMessagesVocabulary.VersionHeader, client?.ApiVersion ?? AnthropicMessagesVocabulary.DefaultVersion)];
        if (client?.Beta is { Length: > 0 } beta)
        {
            headers.Add(new(AnthropicMessagesVocabulary.BetaHeader, beta));
        }

        return new Call(new UpstreamRequest(body, path, Query: null, headers));
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
