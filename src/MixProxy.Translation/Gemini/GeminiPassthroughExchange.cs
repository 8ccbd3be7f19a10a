using System.Buffers;
using System.Text;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.Gemini;

/// <summary>
/// Gemini client, Gemini upstream. The body streams up untouched (the path changes only when an alias maps the
/// model); responses pass through with their usage read on the way (streams byte for byte) and, on whole
/// generation responses, <c>output.text</c> added; errors pass through as Google wrote them.
/// </summary>
public sealed class GeminiPassthroughExchange() : Exchange(GeminiClientApi.Instance, GeminiVocabulary.Protocol)
{
    public override bool NeedsBody(ClientRequest request) => false;

    public override ExchangeCall Begin(ClientRequest request, ExchangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        var gemini = (GeminiClientRequest)request;
        var upstreamModel = settings.Model.UpstreamModel;
        var path = upstreamModel == request.Model
            ? null
            : GeminiVocabulary.Path(upstreamModel, GeminiClientApi.Instance.MethodOf(request.Endpoint), gemini.Version);
        return new Call(path is null ? UpstreamRequest.Unchanged : new UpstreamRequest(Body: null, path, Query: null), settings.OutputText && request.Endpoint.Generates);
    }

    private sealed class Call(UpstreamRequest request, bool outputText) : ExchangeCall(request)
    {
        public override bool RestatesErrors => false;

        public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output) =>
            PassthroughResponse.Read(body, upstreamContentType, output, Outcome, outputText, GeminiUsage.Read, FirstCandidateText);

        // Counting the tokens of an untranslated stream (SSE or JSON array) without touching a byte of it.
        public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken) =>
            new(new UsageTapStream(upstream, GeminiVocabulary.UsageDialect, Outcome), ContentType: null);

        /// <summary>The first candidate's text parts, thoughts left out.</summary>
        private static string FirstCandidateText(JsonElement response)
        {
            var text = new StringBuilder();
            if (response.TryGetProperty(GeminiVocabulary.Candidates, out var candidates) && candidates.ValueKind == JsonValueKind.Array && candidates.GetArrayLength() > 0
                && candidates[0].ValueKind == JsonValueKind.Object
                && candidates[0].TryGetProperty("content"u8, out var content) && content.ValueKind == JsonValueKind.Object
                && content.TryGetProperty("parts"u8, out var parts) && parts.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in parts.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    var isThought = part.TryGetProperty("thought"u8, out var thought) && thought.ValueKind == JsonValueKind.True;
                    if (!isThought && part.TryGetProperty("text"u8, out var t) && t.ValueKind == JsonValueKind.String)
                    {
                        text.Append(t.GetString());
                    }
                }
            }

            return text.ToString();
        }
    }
}
