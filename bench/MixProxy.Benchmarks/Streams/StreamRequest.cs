using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace MixProxy.Benchmarks.Streams;

/// <summary>A streaming request the benchmark sends: where, which body, and the simulator's pacing headers.</summary>
internal sealed record StreamRequest(Uri Url, byte[] Body, int Chunks, int PaceMs, int LatencyMs = 0)
{
    /// <summary>The key whose hash bench/streams.sh writes into the gateway's config, with no limits.</summary>
    public const string Key = "bench-key";

    // The simulator's reply is 7 words of its own plus the prompt's, cut into chunks of equal word counts: with 57
    // one-letter words it has exactly 64, so 64 chunks are one word each (and 4 or 8 chunks divide it evenly).
    private static readonly string Prompt = string.Join(' ', Enumerable.Repeat("w", 57));

    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new ByteArrayContent(Body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        message.Headers.TryAddWithoutValidation("x-simulator-chunks", Chunks.ToString(CultureInfo.InvariantCulture));
        message.Headers.TryAddWithoutValidation("x-simulator-chunk-interval-ms", PaceMs.ToString(CultureInfo.InvariantCulture));
        message.Headers.TryAddWithoutValidation("x-simulator-latency-ms", LatencyMs.ToString(CultureInfo.InvariantCulture));
        return message;
    }

    /// <summary>An OpenAI Chat Completions stream (to the simulator directly, or through the gateway for any model).</summary>
    public static StreamRequest Chat(Uri baseUrl, string model, int chunks, int paceMs) =>
        new(new Uri(baseUrl, "/v1/chat/completions"), ChatBody(model), chunks, paceMs);

    /// <summary>A Gemini <c>streamGenerateContent?alt=sse</c> stream.</summary>
    public static StreamRequest Gemini(Uri baseUrl, string model, int chunks, int paceMs) =>
        new(new Uri(baseUrl, $"/v1beta/models/{model}:streamGenerateContent?alt=sse"), GeminiBody(), chunks, paceMs);

    private static byte[] ChatBody(string model) => Encoding.UTF8.GetBytes(
        $$"""{"model":"{{model}}","stream":true,"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"{{Prompt}}"}],"max_tokens":256}""");

    private static byte[] GeminiBody() => Encoding.UTF8.GetBytes(
        $$$"""{"systemInstruction":{"parts":[{"text":"You are terse."}]},"contents":[{"role":"user","parts":[{"text":"{{{Prompt}}}"}]}],"generationConfig":{"maxOutputTokens":256}}""");
}
