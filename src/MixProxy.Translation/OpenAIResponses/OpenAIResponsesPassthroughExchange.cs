using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIResponses;

/// <summary>
/// Responses client, Responses upstream. The body goes up as sent but for the model name when an alias maps it;
/// responses and streams come back untouched, with their usage read on the way, and errors as the upstream wrote them.
/// The upstream keeps what it stores: <c>previous_response_id</c>, <c>GET</c> and <c>DELETE</c> are its own.
/// </summary>
public sealed class OpenAIResponsesPassthroughExchange() : Exchange(OpenAIResponsesClientApi.Instance, OpenAIResponsesVocabulary.Protocol)
{
    private static readonly JsonPathPattern ModelPath = JsonPathPattern.Parse(OpenAIResponsesVocabulary.Model);

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

        // The canonical path, not the client's spelling of it (/V1/RESPONSES/ matches the route too).
        return new Call(new UpstreamRequest(body, OpenAIResponsesVocabulary.ResponsesPath, Query: null));
    }

    private sealed class Call(UpstreamRequest request) : ExchangeCall(request)
    {
        public override bool RestatesErrors => false;

        // output is a list of items here: the provider page's output.text has no place to go, so nothing is added.
        public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output) =>
            PassthroughResponse.Read(body, upstreamContentType, output, Outcome, outputText: false, OpenAIResponsesUsage.Read, static _ => string.Empty);

        public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken) =>
            new(new UsageTapStream(upstream, OpenAIResponsesVocabulary.UsageDialect, Outcome, Break), ContentType: null);

        // The Responses API's error event (its sequence number is not known here: the body is not parsed). The blank
        // lines end whatever event the break cut short, so the error is read as an event of its own.
        private static readonly byte[] Break = System.Text.Encoding.UTF8.GetBytes(
            "\n\nevent: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"The upstream stopped mid-answer; the stream was ended.\",\"param\":null}\n\n");
    }
}
