using MixProxy.Translation.Gemini;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>The registry: which pairs exist, which exchange a model gets, whose request an unrouted request is.</summary>
public sealed class ProtocolRegistryTests
{
    private static readonly ProtocolRegistry Registry = ProtocolRegistry.Default;
    private static readonly WireProtocol Gemini = GeminiVocabulary.Protocol;
    private static readonly WireProtocol OpenAI = OpenAIChatVocabulary.Protocol;

    [Fact]
    public void Default_HasAnExchangeForEveryClientApiOnGeminiAndChatCompletionsUpstreams()
    {
        foreach (var client in Registry.ClientApis)
        {
            foreach (var upstream in new[] { Gemini, OpenAI, client.Protocol })
            {
                var exchange = Registry.FindExchange(client, [upstream]);
                Assert.NotNull(exchange);
                Assert.Same(client, exchange.Client);
                Assert.Same(upstream, exchange.Upstream);
                Assert.Equal(client.Protocol != upstream, exchange.Translates);
            }
        }
    }

    [Fact]
    public void Default_AnUpstreamThatSpeaksOnlyTheResponsesApi_ServesOnlyResponsesClients()
    {
        // Chat and Gemini clients would need the reverse translators; such a model lists "OpenAI" too (OpenAI's
        // upstreams speak both), and a model that lists only "OpenAIResponses" is a clear 501 for those clients.
        var responses = OpenAIResponsesVocabulary.Protocol;

        Assert.Null(Registry.FindExchange(OpenAIChatClientApi.Instance, [responses]));
        Assert.Null(Registry.FindExchange(GeminiClientApi.Instance, [responses]));
        Assert.False(Registry.FindExchange(OpenAIResponsesClientApi.Instance, [responses])!.Translates);
        Assert.False(Registry.FindExchange(OpenAIResponsesClientApi.Instance, [OpenAI, responses])!.Translates);
        Assert.Same(OpenAI, Registry.FindExchange(OpenAIChatClientApi.Instance, [responses, OpenAI])!.Upstream);
    }

    [Fact]
    public void FindExchange_UpstreamSpeaksTheClientsProtocol_PassesThroughEvenWhenItPrefersAnother()
    {
        var exchange = Registry.FindExchange(GeminiClientApi.Instance, [OpenAI, Gemini]);

        Assert.False(exchange!.Translates);
    }

    [Fact]
    public void FindExchange_UpstreamSpeaksOnlyAnotherProtocol_TranslatesToTheFirstItPairsWith()
    {
        var exchange = Registry.FindExchange(OpenAIChatClientApi.Instance, [Gemini]);

        Assert.True(exchange!.Translates);
        Assert.Same(Gemini, exchange.Upstream);
    }

    [Fact]
    public void FindExchange_NoPairForTheClient_IsNull()
    {
        var onlyGemini = new ProtocolRegistry([OpenAIChatClientApi.Instance, GeminiClientApi.Instance], [new GeminiPassthroughExchange()], new Dictionary<string, CredentialSource>(), Gemini);

        Assert.Null(onlyGemini.FindExchange(OpenAIChatClientApi.Instance, [Gemini]));
    }

    [Fact]
    public void Constructor_TwoExchangesForOnePair_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new ProtocolRegistry([GeminiClientApi.Instance], [new GeminiPassthroughExchange(), new GeminiPassthroughExchange()], new Dictionary<string, CredentialSource>(), Gemini));
    }

    [Fact]
    public void Constructor_ExchangeForAClientApiItDoesNotList_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new ProtocolRegistry([GeminiClientApi.Instance], [new OpenAIChatPassthroughExchange()], new Dictionary<string, CredentialSource>(), OpenAI));
    }

    [Theory]
    [InlineData("OpenAIChat", "OpenAI Chat Completions", "chat", true)]
    [InlineData("GeminiGenerateContent", "Gemini", "generate_content", true)]
    [InlineData("GeminiStreamGenerateContent", "Gemini", "generate_content", true)]
    [InlineData("GeminiCountTokens", "Gemini", "count_tokens", false)]
    public void FindEndpoint_RouteMetadataId_IsTheOperationOfItsClientApi(string id, string api, string operation, bool generates)
    {
        var endpoint = Registry.FindEndpoint(id)!;

        Assert.Equal(api, endpoint.Api.Name);
        Assert.Equal(operation, endpoint.OperationName);
        Assert.Equal(generates, endpoint.Generates);
    }

    [Fact]
    public void FindProtocol_ConfigNames_AreTheUpstreamProtocols()
    {
        Assert.Same(Gemini, Registry.FindProtocol("Gemini"));
        Assert.Same(OpenAI, Registry.FindProtocol("OpenAI"));
        Assert.Null(Registry.FindProtocol("gemini"));
        Assert.Same(Gemini, Registry.DefaultUpstreamProtocol);
    }

    [Theory]
    [InlineData("/v1/models", null, null, "OpenAI Chat Completions")]
    [InlineData("/v1/models", "x-goog-api-key", null, "Gemini")]
    [InlineData("/v1/models", null, "key", "Gemini")]
    [InlineData("/v1beta/models", null, null, "Gemini")]
    [InlineData("/v1/models/gemini-x:embedContent", null, null, "Gemini")]
    [InlineData("/v1/embeddings", null, null, "OpenAI Chat Completions")]
    public void ClientApiFor_RequestOutsideTheRoutes_AnswersInTheShapeItsClientReads(string path, string? header, string? query, string expected)
    {
        var head = new ExchangeHarness.FakeHead { Path = path };
        if (header is not null)
        {
            head.Headers[header] = "k";
        }

        if (query is not null)
        {
            head.QueryValues[query] = "k";
        }

        Assert.Equal(expected, Registry.ClientApiFor(head).Name);
    }

    [Fact]
    public void ClientCredentialSources_EveryPlaceAClientPutsItsKey_OnceEach()
    {
        Assert.Equal("'Authorization: Bearer <key>', 'x-goog-api-key', '?key=' or 'x-api-key'", Registry.DescribeClientCredentials());
    }
}
