using System.Buffers;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using MixProxy.Translation.OpenAIChatToGemini;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Benchmarks;

/// <summary>
/// Time and bytes allocated per translation, on realistic bodies: a chat request with a system prompt, history and a
/// tool; a Gemini response with usage; one stream chunk; a whole 64-event stream. The allocation target of
/// docs/benchmarks.md is a request/response pair allocating under 4 × its body size.
/// </summary>
[MemoryDiagnoser]
public class TranslationBenchmarks
{
    private static readonly UpstreamModelProfile Profile = new() { UpstreamModel = "gemini-3.1-pro-preview", Thinking = ThinkingStyle.Level };
    private static readonly ResponseContext Context = new() { ClientModel = "gemini-3.1-pro-preview", Created = 1_700_000_000, IncludeUsage = true };

    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private readonly ExchangeOutcome _outcome = new();
    private byte[] _chatRequest = [];
    private byte[] _geminiResponse = [];
    private byte[] _geminiChunk = [];
    private byte[] _geminiStream = [];

    [GlobalSetup]
    public void Setup()
    {
        var history = string.Join(",", Enumerable.Range(0, 6).Select(i =>
            "{\"role\":\"" + (i % 2 == 0 ? "user" : "assistant") + "\",\"content\":\"Message number " + i + " of a conversation about gateways, rate limits and streaming translation.\"}"));
        _chatRequest = Encoding.UTF8.GetBytes("""
            {"model":"gemini-3.1-pro-preview","stream":false,"temperature":0.7,"max_completion_tokens":1024,"reasoning_effort":"low",
             "messages":[{"role":"system","content":"You are a helpful assistant for infrastructure teams."},HISTORY],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather by city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]}
            """.Replace("HISTORY", history, StringComparison.Ordinal));
        _geminiResponse = Encoding.UTF8.GetBytes("""
            {"candidates":[{"content":{"role":"model","parts":[{"text":"Rate limits in a gateway are best enforced before forwarding, with reservations reconciled against real usage once the response is known. That keeps concurrent requests from overshooting."}]},"finishReason":"STOP","index":0}],
             "usageMetadata":{"promptTokenCount":180,"candidatesTokenCount":42,"thoughtsTokenCount":64,"totalTokenCount":286},"modelVersion":"gemini-3.1-pro-preview","responseId":"abc123"}
            """);
        _geminiChunk = Encoding.UTF8.GetBytes("""{"candidates":[{"content":{"role":"model","parts":[{"text":"streaming "}]},"index":0}],"usageMetadata":{"promptTokenCount":180,"candidatesTokenCount":3,"totalTokenCount":183},"modelVersion":"gemini-3.1-pro-preview","responseId":"abc123"}""");
        var events = new StringBuilder();
        for (var i = 0; i < 64; i++)
        {
            events.Append("data: ").Append(Encoding.UTF8.GetString(_geminiChunk)).Append("\r\n\r\n");
        }

        _geminiStream = Encoding.UTF8.GetBytes(events.ToString());
    }

    [Benchmark]
    public int ChatRequestToGemini()
    {
        _output.ResetWrittenCount();
        using var document = JsonDocument.Parse(_chatRequest);
        ChatToGeminiRequestTranslator.Translate(document.RootElement, Profile, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int GeminiResponseToChat()
    {
        _output.ResetWrittenCount();
        // With the outcome, as the gateway calls it: the answer's fields are checked against the inventory too.
        GeminiToChatResponseTranslator.Translate(_geminiResponse, Context, _output, outcome: _outcome);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int GeminiStreamChunkToChat()
    {
        _output.ResetWrittenCount();
        var translator = new GeminiToChatStreamTranslator(Context, new ExchangeOutcome());
        translator.TranslateEvent(_geminiChunk, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public async Task<long> GeminiStreamOf64EventsToChat()
    {
        using var upstream = new MemoryStream(_geminiStream);
        var outcome = new ExchangeOutcome();
        await using var translated = new TranslatingSseStream(upstream, new GeminiToChatStreamTranslator(Context, outcome), outcome);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        long total = 0;
        int read;
        while ((read = await translated.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        ArrayPool<byte>.Shared.Return(buffer);
        return total;
    }

    /// <summary>The bytes a translated request/response pair carries, for the allocation ratio.</summary>
    public int PairBodyBytes => _chatRequest.Length + _geminiResponse.Length;
}
