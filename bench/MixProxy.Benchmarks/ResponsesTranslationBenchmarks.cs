using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.Protocols;

namespace MixProxy.Benchmarks;

/// <summary>
/// What the Responses API's bridge to Gemini costs over a Chat Completions client on the same conversation: a
/// Responses request is rewritten as a Chat request, which the Chat → Gemini exchange translates; the answer comes
/// back Gemini → Chat → Responses. Each category pairs the two clients (Chat is the baseline) and drives the shipped
/// registry's exchanges through the public seam the host uses: the client API parses, the registry picks the
/// exchange, <c>Begin</c> prepares the upstream request, the call translates the whole response or the stream.
/// Responses requests say <c>store: false</c>; <see cref="ResponsesRequestStored"/> and <see cref="ResponsesStreamStored"/>
/// show what keeping the input and building the stored record add.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ResponsesTranslationBenchmarks
{
    private const string Model = "gemini-3.1-pro-preview";
    private const string Instructions = "You are a helpful assistant for infrastructure teams.";
    private const string Tool = """{"name":"get_weather","description":"Weather by city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}""";

    private static readonly ExchangeSettings Settings = new()
    {
        Model = new UpstreamModelProfile { UpstreamModel = Model, Thinking = ThinkingStyle.Level },
        Created = 1_700_000_000,
    };

    private static readonly Exchange ChatExchange = Find(OpenAIChatClientApi.Instance);
    private static readonly Exchange ResponsesExchange = Find(OpenAIResponsesClientApi.Instance);

    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private readonly byte[] _readBuffer = new byte[16 * 1024];
    private byte[] _chatRequest = [];
    private byte[] _responsesRequest = [];
    private byte[] _responsesStoredRequest = [];
    private byte[] _geminiResponse = [];
    private byte[] _geminiStream = [];
    private ExchangeCall _chatCall = null!;
    private ExchangeCall _responsesCall = null!;
    private ExchangeCall _chatStreamCall = null!;
    private ExchangeCall _responsesStreamCall = null!;
    private ExchangeCall _responsesStoredStreamCall = null!;

    [GlobalSetup]
    public void Setup()
    {
        // The same conversation for both clients: instructions, six history messages, one function tool, the same knobs.
        var history = string.Join(",", Enumerable.Range(0, 6).Select(i =>
            "{\"role\":\"" + (i % 2 == 0 ? "user" : "assistant") + "\",\"content\":\"Message number " + i + " of a conversation about gateways, rate limits and streaming translation.\"}"));
        _chatRequest = ChatBody(history, stream: false);
        _responsesRequest = ResponsesBody(history, stream: false, store: false);
        _responsesStoredRequest = ResponsesBody(history, stream: false, store: true);

        // A whole Gemini answer: ~250 bytes of text, usage with thoughts.
        _geminiResponse = Encoding.UTF8.GetBytes("""
            {"candidates":[{"content":{"role":"model","parts":[{"text":"Rate limits in a gateway are best enforced before forwarding, with reservations reconciled against real usage once the response is known. That keeps concurrent requests from overshooting the budget, and lets a streamed answer settle its real cost when it ends."}]},"finishReason":"STOP","index":0}],
             "usageMetadata":{"promptTokenCount":180,"candidatesTokenCount":52,"thoughtsTokenCount":64,"totalTokenCount":296},"modelVersion":"gemini-3.1-pro-preview","responseId":"abc123"}
            """);

        // A 64-event Gemini stream: 63 text chunks with cumulative usage, then the finish.
        var events = new StringBuilder();
        for (var i = 0; i < 63; i++)
        {
            events.Append("data: ")
                .Append("""{"candidates":[{"content":{"role":"model","parts":[{"text":"streaming "}]},"index":0}],"usageMetadata":{"promptTokenCount":180,"candidatesTokenCount":""")
                .Append(i + 1)
                .Append(""","totalTokenCount":""").Append(181 + i)
                .Append("""},"modelVersion":"gemini-3.1-pro-preview","responseId":"abc123"}""")
                .Append("\r\n\r\n");
        }

        events.Append("data: ")
            .Append("""{"candidates":[{"content":{"role":"model","parts":[{"text":"done."}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":180,"candidatesTokenCount":64,"totalTokenCount":244},"modelVersion":"gemini-3.1-pro-preview","responseId":"abc123"}""")
            .Append("\r\n\r\n");
        _geminiStream = Encoding.UTF8.GetBytes(events.ToString());

        // The response side gets the call the request side made, as in the gateway; one call serves every iteration.
        _chatCall = Begin(ChatExchange, OpenAIChatClientApi.Instance.Chat, _chatRequest);
        _responsesCall = Begin(ResponsesExchange, OpenAIResponsesClientApi.Instance.Responses, _responsesRequest);
        _chatStreamCall = Begin(ChatExchange, OpenAIChatClientApi.Instance.Chat, ChatBody(history, stream: true));
        _responsesStreamCall = Begin(ResponsesExchange, OpenAIResponsesClientApi.Instance.Responses, ResponsesBody(history, stream: true, store: false));
        _responsesStoredStreamCall = Begin(ResponsesExchange, OpenAIResponsesClientApi.Instance.Responses, ResponsesBody(history, stream: true, store: true));

        // Both sides must produce a complete answer, or the rows would compare an error path.
        CheckStream(_chatStreamCall, "[DONE]");
        CheckStream(_responsesStreamCall, "response.completed");
        CheckStream(_responsesStoredStreamCall, "response.completed");
        if (_responsesStoredStreamCall.Outcome.ResultToStore is null)
        {
            throw new InvalidOperationException("The stored stream built no record.");
        }
    }

    /// <summary>Parse and <c>Begin</c>: the Gemini request a Chat client's body becomes.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("request")]
    public int ChatRequest() => BeginOnce(ChatExchange, OpenAIChatClientApi.Instance.Chat, _chatRequest);

    /// <summary>Parse and <c>Begin</c>: Responses → Chat → Gemini, the same conversation.</summary>
    [Benchmark]
    [BenchmarkCategory("request")]
    public int ResponsesRequest() => BeginOnce(ResponsesExchange, OpenAIResponsesClientApi.Instance.Responses, _responsesRequest);

    /// <summary>The same with <c>store: true</c>: the input is kept for the record, each input item given an id.</summary>
    [Benchmark]
    [BenchmarkCategory("request")]
    public int ResponsesRequestStored() => BeginOnce(ResponsesExchange, OpenAIResponsesClientApi.Instance.Responses, _responsesStoredRequest);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("response")]
    public int ChatResponse() => TranslateResponse(_chatCall);

    [Benchmark]
    [BenchmarkCategory("response")]
    public int ResponsesResponse() => TranslateResponse(_responsesCall);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("stream")]
    public Task<long> ChatStream() => ReadStream(_chatStreamCall);

    [Benchmark]
    [BenchmarkCategory("stream")]
    public Task<long> ResponsesStream() => ReadStream(_responsesStreamCall);

    /// <summary>The same stream with <c>store: true</c>: the record (response, input, conversation) is built as it completes.</summary>
    [Benchmark]
    [BenchmarkCategory("stream")]
    public Task<long> ResponsesStreamStored() => ReadStream(_responsesStoredStreamCall);

    private static Exchange Find(ClientApi client) =>
        ProtocolRegistry.Default.FindExchange(client, [GeminiVocabulary.Protocol]) ?? throw new InvalidOperationException($"No exchange for {client.Name} on Gemini.");

    private static ExchangeCall Begin(Exchange exchange, ClientEndpoint endpoint, byte[] body)
    {
        var request = endpoint.Api.Parse(endpoint, new BenchRequestHead(), body);
        var call = exchange.Begin(request, Settings);
        request.ReleaseBody();
        return call;
    }

    private static int BeginOnce(Exchange exchange, ClientEndpoint endpoint, byte[] body)
    {
        // As the host does: the parsed body is let go once the upstream request is ready.
        var request = endpoint.Api.Parse(endpoint, new BenchRequestHead(), body);
        var call = exchange.Begin(request, Settings);
        request.ReleaseBody();
        return call.Request.Body?.Length ?? 0;
    }

    private int TranslateResponse(ExchangeCall call)
    {
        _output.ResetWrittenCount();
        call.TranslateResponse(_geminiResponse, "application/json", _output);
        return _output.WrittenCount;
    }

    private async Task<long> ReadStream(ExchangeCall call)
    {
        var reply = call.TranslateStream(new MemoryStream(_geminiStream, writable: false), "text/event-stream", CancellationToken.None);
        await using var translated = reply.Body;
        long total = 0;
        int read;
        while ((read = await translated.ReadAsync(_readBuffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    private void CheckStream(ExchangeCall call, string ending)
    {
        var reply = call.TranslateStream(new MemoryStream(_geminiStream, writable: false), "text/event-stream", CancellationToken.None);
        using var reader = new StreamReader(reply.Body, Encoding.UTF8);
        var text = reader.ReadToEnd();
        if (!text.TrimEnd().Contains(ending, StringComparison.Ordinal) || text.Contains("\"error\":{", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The stream did not end with {ending}: {text[^Math.Min(400, text.Length)..]}");
        }
    }

    private static byte[] ChatBody(string history, bool stream) => Encoding.UTF8.GetBytes($$"""
        {"model":"{{Model}}","stream":{{(stream ? "true,\"stream_options\":{\"include_usage\":true}" : "false")}},"temperature":0.7,"max_completion_tokens":1024,"reasoning_effort":"low",
         "messages":[{"role":"system","content":"{{Instructions}}"},{{history}}],
         "tools":[{"type":"function","function":{{Tool}}}]}
        """);

    private static byte[] ResponsesBody(string history, bool stream, bool store) => Encoding.UTF8.GetBytes($$"""
        {"model":"{{Model}}","stream":{{(stream ? "true" : "false")}},"store":{{(store ? "true" : "false")}},"temperature":0.7,"max_output_tokens":1024,"reasoning":{"effort":"low"},
         "instructions":"{{Instructions}}","input":[{{history}}],
         "tools":[{"type":"function",{{Tool[1..^1]}}}]}
        """);

    /// <summary>A request with nothing but its body: neither client reads a header, query or route value to parse it.</summary>
    private sealed class BenchRequestHead : IRequestHead
    {
        public string Path => "/";

        public long? ContentLength => null;

        public string? Header(string name) => null;

        public string? Query(string name) => null;

        public string? RouteValue(string name) => null;
    }
}
