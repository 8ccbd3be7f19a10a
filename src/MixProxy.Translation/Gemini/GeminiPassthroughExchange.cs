using System.Buffers;
using System.Text;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.Gemini;

/// <summary>
/// Gemini client, Gemini upstream. The body goes up as it came, but for a request that may not replay its thought
/// signatures (a fallback from the endpoint that issued them), whose signatures are replaced by Google's bypass value,
/// and for one to an upstream that takes only Google's own spellings (<see cref="UpstreamDialect.Strict"/>), whose
/// provider-page tools are rewritten (<see cref="GeminiToolSpellings"/>). The path is built from the route's facts
/// (version, model or its alias's upstream name, method), never the client's spelling of it. Responses pass through
/// with their usage read on the way (streams byte for byte) and, on whole generation responses, <c>output.text</c>
/// added; errors pass through as Google wrote them.
/// </summary>
public sealed class GeminiPassthroughExchange() : Exchange(GeminiClientApi.Instance, GeminiVocabulary.Protocol)
{
    // Where Gemini puts a signature: on a part of a turn of the history (the REST API reads either spelling).
    private static readonly JsonPathPattern SignaturePath = JsonPathPattern.Parse("contents[].parts[].thoughtSignature|thought_signature");

    // Always read, although most bodies go up as they came: a body is checked (JSON, text, nesting depth) before any
    // upstream call, which a body streamed on unread would skip.
    public override bool NeedsBody(ClientRequest request, bool replaySignatures) => true;

    public override ExchangeCall Begin(ClientRequest request, ExchangeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        var gemini = (GeminiClientRequest)request;
        var upstreamModel = settings.Model.UpstreamModel;
        // Routes match /V1BETA/… and …:generateContent/ too: the client's spelling would reach an upstream that matches
        // exactly as its own 404 page.
        var path = GeminiVocabulary.Path(upstreamModel, GeminiClientApi.Instance.MethodOf(request.Endpoint), gemini.Version);
        var body = settings.ReplaySignatures ? null : WithoutSignatures(request);
        if (settings.Dialect == UpstreamDialect.Strict)
        {
            body = InGoogleSpelling(request, body) ?? body;
        }

        var upstream = new UpstreamRequest(body, path, Query: null);
        return new Call(upstream, settings.OutputText && request.Endpoint.Generates, gemini.Sse);
    }

    /// <summary>The client's body with every thought signature replaced by the bypass value; null when it has none.</summary>
    private static ReadOnlyMemory<byte>? WithoutSignatures(ClientRequest request)
    {
        if (!request.BodyRead)
        {
            throw new InvalidOperationException("A request that may not replay its thought signatures needs its body read (NeedsBody says so).");
        }

        return request.Body.IsEmpty ? null : JsonStringSplice.ReplaceStrings(request.Body.Span, SignaturePath, ThoughtSignatures.BypassJson);
    }

    /// <summary>The body (<paramref name="body"/> when already rewritten, else the client's) with its tools in Google's own spelling; null when nothing changed.</summary>
    private static ReadOnlyMemory<byte>? InGoogleSpelling(ClientRequest request, ReadOnlyMemory<byte>? body)
    {
        if (!request.BodyRead)
        {
            throw new InvalidOperationException("A request to a strict upstream needs its body read (NeedsBody says so).");
        }

        var json = body ?? request.Body;
        return json.IsEmpty ? null : GeminiToolSpellings.ToGoogle(json.Span);
    }

    private sealed class Call(UpstreamRequest request, bool outputText, bool sse) : ExchangeCall(request)
    {
        public override bool RestatesErrors => false;

        public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output) =>
            PassthroughResponse.Read(body, upstreamContentType, output, Outcome, outputText, GeminiUsage.Read, FirstCandidateText);

        // Counting the tokens of an untranslated stream (SSE or JSON array) without touching a byte of it.
        public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken) =>
            new(new UsageTapStream(upstream, GeminiVocabulary.UsageDialect, Outcome, sse ? SseBreak : ArrayBreak), ContentType: null);

        // Google's error shape, as the stream's framing carries it: an SSE event, or the array's last element. The
        // blank lines end whatever event the break cut short, so the error is read as an event of its own.
        private static readonly byte[] SseBreak = [.. "\n\ndata: "u8, .. GoogleErrors.Body(502, UpstreamStopped, "UNAVAILABLE"), .. "\n\n"u8];
        private static readonly byte[] ArrayBreak = [.. ","u8, .. GoogleErrors.Body(502, UpstreamStopped, "UNAVAILABLE"), .. "]"u8];
        private const string UpstreamStopped = "The upstream stopped mid-answer; the stream was ended.";

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
