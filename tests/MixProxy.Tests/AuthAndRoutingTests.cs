using System.Net;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>Who may call what: keys, model allow-lists, unknown models, each refused in the client's own protocol.</summary>
public sealed class AuthAndRoutingTests
{
    private const string Chat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";
    private const string Generate = """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""";

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-key")]
    public async Task ChatCompletions_MissingOrUnknownKey_Returns401InOpenAIShape(string? key)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient(key);

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", Chat);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        HttpHelpers.AssertOpenAIError(body, "invalid_api_key");
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task GenerateContent_UnknownGoogApiKey_Returns401InGoogleShape()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient(key: null);

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", Generate, ("x-goog-api-key", "nope"));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        HttpHelpers.AssertGoogleError(body, 401, "UNAUTHENTICATED");
    }

    [Fact]
    public async Task GenerateContent_GoogApiKeyHeader_IsAcceptedAndNotForwarded()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient(key: null);

        var (status, _, _) = await client.PostJsonAsync("/v1/models/gemini-3.1-pro-preview:generateContent", Generate, ("x-goog-api-key", GatewayFixture.ClientKey));

        Assert.Equal(HttpStatusCode.OK, status);
        var upstream = Assert.Single(gateway.Upstream.Received);
        Assert.Equal("/v1/models/gemini-3.1-pro-preview:generateContent", upstream.Path);
        Assert.False(upstream.Headers.ContainsKey("x-goog-api-key"));
        Assert.DoesNotContain(GatewayFixture.ClientKey, string.Join(" ", upstream.Headers.Values) + upstream.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelNotAllowedForKey_Returns403InBothProtocols()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient(GatewayFixture.RestrictedKey);

        var (chatStatus, chatBody, _) = await client.PostJsonAsync("/v1/chat/completions", Chat);
        var (geminiStatus, geminiBody, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", Generate);

        Assert.Equal(HttpStatusCode.Forbidden, chatStatus);
        HttpHelpers.AssertOpenAIError(chatBody, "model_not_allowed");
        Assert.Equal(HttpStatusCode.Forbidden, geminiStatus);
        HttpHelpers.AssertGoogleError(geminiBody, 403, "PERMISSION_DENIED");
        Assert.Empty(gateway.Upstream.Received);
    }

    /// <summary>One request, one credential: which of two keys would count is not the gateway's to guess.</summary>
    [Theory]
    [InlineData("x-goog-api-key", null)]
    [InlineData(null, "?key=")]
    public async Task TwoDifferentKeysInOneRequest_Are400InTheClientsProtocol_AndTheSameKeyTwiceIsFine(string? header, string? query)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        string Path(string key) => "/v1beta/models/gemini-3.1-pro-preview:generateContent" + (query is null ? string.Empty : query + key);
        (string, string)[] Headers(string key) => header is null ? [] : [(header, key)];

        var (status, body, _) = await client.PostJsonAsync(Path(GatewayFixture.RestrictedKey), Generate, Headers(GatewayFixture.RestrictedKey));
        var (same, _, _) = await client.PostJsonAsync(Path(GatewayFixture.ClientKey), Generate, Headers(GatewayFixture.ClientKey));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertGoogleError(body, 400, "INVALID_ARGUMENT");
        Assert.Equal(HttpStatusCode.OK, same);
        Assert.Single(gateway.Upstream.Received);
    }

    [Fact]
    public async Task ModelNamedTwice_ARestrictedKeyCannotSmuggleAnotherModel_400AndNoUpstreamCall()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient(GatewayFixture.RestrictedKey);

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"model":"gpt-4o-mini"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertOpenAIError(body);
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task UnknownModel_Returns404InBothProtocols()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (chatStatus, chatBody, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"claude-9","messages":[{"role":"user","content":"Hi"}]}""");
        var (geminiStatus, geminiBody, _) = await client.PostJsonAsync("/v1beta/models/claude-9:streamGenerateContent?alt=sse", Generate);

        Assert.Equal(HttpStatusCode.NotFound, chatStatus);
        HttpHelpers.AssertOpenAIError(chatBody, "model_not_found");
        Assert.Equal(HttpStatusCode.NotFound, geminiStatus);
        HttpHelpers.AssertGoogleError(geminiBody, 404, "NOT_FOUND");
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task GenerateContent_ModelWhoseUpstreamTheClientsProtocolHasNoExchangeWith_Returns501InGoogleShape()
    {
        // A registry without the Gemini client → Chat Completions upstream pair: the gateway must say so, not guess.
        var withoutPair = new MixProxy.Translation.Protocols.ProtocolRegistry(
            [MixProxy.Translation.OpenAIChat.OpenAIChatClientApi.Instance, MixProxy.Translation.Gemini.GeminiClientApi.Instance, MixProxy.Translation.OpenAIResponses.OpenAIResponsesClientApi.Instance, MixProxy.Translation.AnthropicMessages.AnthropicMessagesClientApi.Instance],
            [new MixProxy.Translation.OpenAIChat.OpenAIChatPassthroughExchange(), new MixProxy.Translation.Gemini.GeminiPassthroughExchange(), new MixProxy.Translation.OpenAIChatToGemini.OpenAIChatToGeminiExchange()],
            MixProxy.Translation.Protocols.ProtocolRegistry.Default.UpstreamCredentials,
            MixProxy.Translation.Gemini.GeminiVocabulary.Protocol);
        await using var gateway = await GatewayFixture.StartAsync(protocols: withoutPair);
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gpt-4o-mini:generateContent", Generate);

        Assert.Equal(HttpStatusCode.NotImplemented, status);
        HttpHelpers.AssertGoogleError(body, 501, "UNIMPLEMENTED");
        Assert.Contains("not served to Gemini clients", body!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(gateway.Upstream.Received);
    }

    [Fact]
    public async Task CountTokens_OnOpenAIOnlyModel_Returns501InGoogleShape()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1beta/models/gpt-4o:countTokens", Generate);

        Assert.Equal(HttpStatusCode.NotImplemented, status);
        HttpHelpers.AssertGoogleError(body, 501, "UNIMPLEMENTED");
    }

    [Fact]
    public async Task ListModels_ReturnsOnlyTheKeysModelsInTheCallersProtocol()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient(GatewayFixture.RestrictedKey);
        using var all = gateway.CreateClient();

        var (_, restricted) = await client.GetJsonAsync("/v1/models");
        var (_, openAI) = await all.GetJsonAsync("/v1/models");
        var (_, google) = await all.GetJsonAsync("/v1beta/models");
        var (oneStatus, one) = await all.GetJsonAsync("/v1/models/alias-flash");
        var (missingStatus, _) = await all.GetJsonAsync("/v1/models/nope");

        Assert.Empty(restricted!["data"]!.AsArray());
        Assert.Equal(["gemini-3.1-pro-preview", "alias-flash"], openAI!["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()));
        Assert.Equal(["models/gemini-3.1-pro-preview", "models/alias-flash"], google!["models"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, oneStatus);
        Assert.Equal("alias-flash", one!["id"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, missingStatus);
    }

    [Fact]
    public async Task Health_LivenessAndReadiness_Answer200()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient(key: null);

        using var live = await client.GetAsync("/healthz/live", TestContext.Current.CancellationToken);
        using var ready = await client.GetAsync("/healthz/ready", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }
}
