using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>
/// Chat Completions client, Chat Completions upstream. The body goes up as sent but for the model name when an
/// alias maps it, <c>stream_options.include_usage</c> when a stream's usage is needed and the client did not ask
/// for it (that usage chunk is taken out again on the way back), and the thought signatures of Google's
/// OpenAI-compatible endpoint when the request may not replay them (<see cref="ExchangeSettings.ReplaySignatures"/>).
/// Responses pass through with their usage read and, on whole responses, <c>output.text</c> added; errors pass
/// through as the upstream wrote them.
/// </summary>
public sealed class OpenAIChatPassthroughExchange() : Exchange(OpenAIChatClientApi.Instance, OpenAIChatVocabulary.Protocol)
{
    public override bool NeedsBody(ClientRequest request, bool replaySignatures) => true;

    public override ExchangeCall Begin(ClientRequest request, ExchangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        var upstreamModel = settings.Model.UpstreamModel;

        // Limits and metrics need every stream's usage.
        var addsUsage = request.Stream && !request.WantsStreamUsage;
        ReadOnlyMemory<byte>? body = null;
        if (upstreamModel != request.Model || addsUsage)
        {
            var rewritten = new ArrayBufferWriter<byte>(request.Body.Length + 64);
            ChatRequestRewriter.Rewrite(request.Document!.RootElement, upstreamModel, addsUsage, rewritten);
            body = rewritten.WrittenMemory;
        }

        if (!settings.ReplaySignatures)
        {
            body = ChatRequestRewriter.ReplaceThoughtSignatures((body ?? request.Body).Span) ?? body;
        }

        // The canonical path, not the client's spelling of it (/V1/CHAT/COMPLETIONS/ matches the route too).
        return new Call(new UpstreamRequest(body, OpenAIChatVocabulary.ChatCompletionsPath, Query: null), settings.OutputText, addsUsage);
    }

    private sealed class Call(UpstreamRequest request, bool outputText, bool dropUsageChunk) : ExchangeCall(request)
    {
        public override bool RestatesErrors => false;

        public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output) =>
            PassthroughResponse.Read(body, upstreamContentType, output, Outcome, outputText, OpenAIChatUsage.Read, FirstChoiceText);

        public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken) =>
            new(new TranslatingSseStream(upstream, new ChatStreamUsageFilter(Outcome, dropUsageChunk), Outcome, cancellationToken), ContentType: null);

        private static string FirstChoiceText(JsonElement response) =>
            response.TryGetProperty(OpenAIChatVocabulary.Choices, out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
            && choices[0].ValueKind == JsonValueKind.Object && choices[0].TryGetProperty("message"u8, out var message) && message.ValueKind == JsonValueKind.Object
            && message.TryGetProperty("content"u8, out var content) && content.ValueKind == JsonValueKind.String
                ? content.GetString()!
                : string.Empty;
    }
}
