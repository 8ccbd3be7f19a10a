using System.Text;
using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.AnthropicMessages;

/// <summary>
/// An Anthropic upstream refuses a request without <c>anthropic-version</c>, which no client could fix: the passthrough
/// always sends one (the client's, else the API's first stable version) and the client's beta features, whatever headers
/// the cluster's allow-list forwards.
/// </summary>
public sealed class AnthropicPassthroughHeadersTests
{
    private static readonly UpstreamModelProfile Claude = new() { UpstreamModel = "claude-x" };

    private static ExchangeCall Begin(Action<ExchangeHarness.FakeHead> headers)
    {
        var head = new ExchangeHarness.FakeHead { Path = AnthropicMessagesVocabulary.MessagesPath };
        headers(head);
        var api = AnthropicMessagesClientApi.Instance;
        var request = api.Parse(api.Messages, head, Encoding.UTF8.GetBytes("""{"model":"claude-x","max_tokens":16,"messages":[{"role":"user","content":"Hi"}]}"""));
        return ExchangeHarness.Begin("anthropic-messages-passthrough", request, Claude);
    }

    [Fact]
    public void Begin_ClientVersionAndBeta_GoUpAsSent()
    {
        var call = Begin(head =>
        {
            head.Headers["anthropic-version"] = "2026-10-21";
            head.Headers["anthropic-beta"] = "interleaved-thinking-2025-05-14";
        });

        Assert.Equal(
            [new("anthropic-version", "2026-10-21"), new("anthropic-beta", "interleaved-thinking-2025-05-14")],
            call.Request.Headers);
    }

    [Fact]
    public void Begin_ClientWithoutAVersion_GetsTheFirstStableOne_AndNoBeta() =>
        Assert.Equal([new("anthropic-version", "2023-06-01")], Begin(_ => { }).Request.Headers);
}
