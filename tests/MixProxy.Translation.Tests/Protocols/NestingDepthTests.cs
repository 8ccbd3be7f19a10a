using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>
/// Every client API refuses a body nested deeper than <see cref="JsonText.MaxDepth"/> as bad input, saying so, and every
/// exchange has the body read (and so checked) before its upstream request is prepared: none streams it on unread.
/// </summary>
public sealed class NestingDepthTests
{
    public static TheoryData<string> Pairs() => [.. ExchangeHarness.Pairs.Keys];

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Parse_BodyNestedPastTheLimit_IsRefusedAsBadInput_NamingTheLimit(string pair)
    {
        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Parse(pair, BodyWithExtraField(pair, JsonText.MaxDepth)));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains($"deeper than {JsonText.MaxDepth} levels", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Parse_BodyNestedToTheLimit_IsRead(string pair)
    {
        var request = ExchangeHarness.Parse(pair, BodyWithExtraField(pair, JsonText.MaxDepth - 1));

        Assert.True(request.BodyRead);
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void NeedsBody_EveryExchange_ReadsTheBodyBeforeTheUpstreamCall(string pair)
    {
        var exchange = ExchangeHarness.ExchangeFor(pair);
        var request = ExchangeHarness.MinimalRequest(pair, stream: false);

        Assert.True(exchange.NeedsBody(request, replaySignatures: true, UpstreamDialect.Lenient));
        Assert.True(exchange.NeedsBody(request, replaySignatures: true));
    }

    /// <summary>
    /// A minimal request of the pair's client with one more field nested <paramref name="levels"/> deep inside the
    /// body's object. One body serves the clients whose model is in it: each reads its own fields (Chat and Anthropic
    /// <c>messages</c>, Anthropic's required <c>max_tokens</c>, Responses <c>input</c>) and leaves the others to its exchange.
    /// </summary>
    private static string BodyWithExtraField(string pair, int levels)
    {
        var minimal = ExchangeHarness.Pairs[pair].Client is GeminiClientApi
            ? """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]"""
            : $$"""{"model":"{{ExchangeHarness.GeminiClientModel}}","input":"Hi","messages":[{"role":"user","content":"Hi"}],"max_tokens":16""";
        return minimal + ",\"extra\":" + new string('[', levels) + new string(']', levels) + "}";
    }
}
