using System.Buffers;
using System.Net;
using System.Text;
using MixProxy.Tests.Infrastructure;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.GeminiToOpenAIChat;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.OpenAIChatToGemini;
using MixProxy.Translation.Protocols;

namespace MixProxy.Tests;

/// <summary>
/// A bug in a translator surfaces as a bug: a 500 in the client's protocol and an error in the log (never a 400 that
/// blames the client, never an empty body); mid-stream, where the status is already out, an error event for the
/// client and the exception in the log. The gateway runs with a registry whose OpenAI → Gemini exchange is broken.
/// </summary>
public sealed class GatewayFaultTests
{
    private const string Chat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";
    private const string ChatStream = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""";

    [Fact]
    public async Task RequestTranslatorThrowsABug_Is500InTheClientsProtocol_LoggedAsAnError_AndNeverForwarded()
    {
        await using var gateway = await GatewayFixture.StartAsync(protocols: WithBrokenExchange(Broken.Request));
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        HttpHelpers.AssertOpenAIError(body);
        Assert.Equal("server_error", body!["error"]!["type"]!.GetValue<string>());
        Assert.Empty(gateway.Upstream.Received);
        Assert.Contains(gateway.Logs.Lines, line => line.StartsWith("Error MixProxy.Proxy.", StringComparison.Ordinal) && line.Contains("[201]", StringComparison.Ordinal) && line.Contains("a translator bug", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ResponseTranslatorThrowsABug_Is500InTheClientsProtocol_AndLoggedAsAnError()
    {
        await using var gateway = await GatewayFixture.StartAsync(protocols: WithBrokenExchange(Broken.Response));
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        HttpHelpers.AssertOpenAIError(body);
        Assert.Single(gateway.Upstream.Received);
        Assert.Contains(gateway.Logs.Lines, line => line.StartsWith("Error MixProxy.Proxy.", StringComparison.Ordinal) && line.Contains("[201]", StringComparison.Ordinal) && line.Contains("a translator bug", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StreamTranslatorFailsMidStream_ClientGetsTheErrorEvent_AndTheExceptionIsLogged()
    {
        await using var gateway = await GatewayFixture.StartAsync(protocols: WithBrokenExchange(Broken.Stream));
        using var client = gateway.CreateClient();

        var (status, _, response) = await client.PostJsonAsync("/v1/chat/completions", ChatStream);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"error\"", text, StringComparison.Ordinal);
        Assert.Contains(gateway.Logs.Lines, line => line.StartsWith("Error MixProxy.Proxy.ExchangeMiddleware[202]", StringComparison.Ordinal) && line.Contains("a translator bug mid-stream", StringComparison.Ordinal));
    }

    private enum Broken
    {
        Request,
        Response,
        Stream,
    }

    /// <summary>The shipped registry, but for an OpenAI → Gemini exchange that fails where the test says.</summary>
    private static ProtocolRegistry WithBrokenExchange(Broken where) => new(
        [OpenAIChatClientApi.Instance, GeminiClientApi.Instance, MixProxy.Translation.OpenAIResponses.OpenAIResponsesClientApi.Instance, MixProxy.Translation.AnthropicMessages.AnthropicMessagesClientApi.Instance],
        [new OpenAIChatPassthroughExchange(), new GeminiPassthroughExchange(), new BrokenExchange(where), new GeminiToOpenAIChatExchange()],
        ProtocolRegistry.Default.UpstreamCredentials,
        GeminiVocabulary.Protocol);

    private sealed class BrokenExchange(Broken where) : Exchange(OpenAIChatClientApi.Instance, GeminiVocabulary.Protocol)
    {
        private readonly OpenAIChatToGeminiExchange _real = new();

        public override bool NeedsBody(ClientRequest request, bool replaySignatures) => true;

        public override ExchangeCall Begin(ClientRequest request, ExchangeSettings settings) =>
            where == Broken.Request
                ? throw new InvalidOperationException("a translator bug")
                : new BrokenCall(_real.Begin(request, settings).Request, where);
    }

    private sealed class BrokenCall(UpstreamRequest request, Broken where) : ExchangeCall(request)
    {
        public override bool RestatesErrors => false;

        public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output) =>
            throw new InvalidOperationException("a translator bug");

        public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken)
        {
            Assert.Equal(Broken.Stream, where);
            upstream.Dispose();

            // What a stream translator does when it catches its own bug: an error event for the client, the exception for the host.
            Outcome.Faulted = true;
            Outcome.TranslationFault = new InvalidOperationException("a translator bug mid-stream");
            return new StreamReply(new MemoryStream(Encoding.UTF8.GetBytes("data: {\"error\":{\"message\":\"The gateway failed mid-stream.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n")), "text/event-stream");
        }
    }
}
