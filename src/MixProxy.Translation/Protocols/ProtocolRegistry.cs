using MixProxy.Translation.AnthropicMessages;
using MixProxy.Translation.AnthropicMessagesToGemini;
using MixProxy.Translation.AnthropicMessagesToOpenAIChat;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.GeminiToOpenAIChat;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.OpenAIChatToGemini;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.OpenAIResponsesToGemini;
using MixProxy.Translation.OpenAIResponsesToOpenAIChat;

namespace MixProxy.Translation.Protocols;

/// <summary>
/// Which client APIs the gateway serves and which (client API, upstream protocol) exchanges exist. It is the only
/// place that knows the pairs: the host asks it for an endpoint by route, a protocol by config name and an exchange
/// by model, and never names a protocol itself. Adding a protocol is a folder of its own plus a line here.
/// </summary>
public sealed class ProtocolRegistry
{
    /// <summary>
    /// What MixProxy ships: OpenAI Chat Completions and Gemini, each way and passed through; the OpenAI Responses API
    /// on Gemini and Chat Completions upstreams, and passed through; the Anthropic Messages API likewise.
    /// </summary>
    public static ProtocolRegistry Default { get; } = new(
        [OpenAIChatClientApi.Instance, GeminiClientApi.Instance, OpenAIResponsesClientApi.Instance, AnthropicMessagesClientApi.Instance],
        [
            new OpenAIChatPassthroughExchange(), new GeminiPassthroughExchange(), new OpenAIChatToGeminiExchange(), new GeminiToOpenAIChatExchange(),
            new OpenAIResponsesPassthroughExchange(), new OpenAIResponsesToGeminiExchange(), new OpenAIResponsesToOpenAIChatExchange(),
            new AnthropicMessagesPassthroughExchange(), new AnthropicMessagesToGeminiExchange(), new AnthropicMessagesToOpenAIChatExchange(),
        ],
        new Dictionary<string, CredentialSource>(StringComparer.Ordinal)
        {
            ["Bearer"] = CredentialSource.BearerToken,
            ["GoogApiKey"] = GeminiVocabulary.ApiKeyHeaderCredential,
            ["XApiKey"] = AnthropicMessagesVocabulary.ApiKeyCredential,
        },
        defaultUpstream: GeminiVocabulary.Protocol);

    private readonly Dictionary<string, ClientEndpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WireProtocol> _protocols = new(StringComparer.Ordinal);
    private readonly Dictionary<(ClientApi, WireProtocol), Exchange> _exchanges = [];

    /// <param name="clientApis">The client APIs, the default first: it answers requests no API claims.</param>
    /// <param name="exchanges">Every pair that exists.</param>
    /// <param name="upstreamCredentials">How an upstream may take the gateway's credential, by the name a cluster's <c>MixProxy.UpstreamAuth</c> uses.</param>
    /// <param name="defaultUpstream">The protocol of a model whose <c>Protocols</c> the config leaves out.</param>
    public ProtocolRegistry(IEnumerable<ClientApi> clientApis, IEnumerable<Exchange> exchanges, IReadOnlyDictionary<string, CredentialSource> upstreamCredentials, WireProtocol defaultUpstream)
    {
        ClientApis = [.. clientApis];
        if (ClientApis.Count == 0)
        {
            throw new ArgumentException("At least one client API is required.", nameof(clientApis));
        }

        foreach (var endpoint in ClientApis.SelectMany(api => api.Endpoints))
        {
            if (!_endpoints.TryAdd(endpoint.Id, endpoint))
            {
                throw new ArgumentException($"Two endpoints are called '{endpoint.Id}'.", nameof(clientApis));
            }
        }

        foreach (var exchange in exchanges)
        {
            if (!ClientApis.Contains(exchange.Client))
            {
                throw new ArgumentException($"Exchange {exchange} serves a client API the registry does not list.", nameof(exchanges));
            }

            if (!_exchanges.TryAdd((exchange.Client, exchange.Upstream), exchange))
            {
                throw new ArgumentException($"Two exchanges serve {exchange}.", nameof(exchanges));
            }

            if (_protocols.TryGetValue(exchange.Upstream.Name, out var known) && known != exchange.Upstream)
            {
                throw new ArgumentException($"Two protocols are called '{exchange.Upstream.Name}'.", nameof(exchanges));
            }

            _protocols[exchange.Upstream.Name] = exchange.Upstream;
        }

        UpstreamProtocols = [.. _protocols.Values];
        ClientCredentialSources = [.. ClientApis.SelectMany(api => api.CredentialSources).Distinct()];
        UpstreamCredentials = upstreamCredentials;
        DefaultUpstreamProtocol = _protocols.GetValueOrDefault(defaultUpstream.Name) == defaultUpstream
            ? defaultUpstream
            : throw new ArgumentException($"No exchange reaches the default upstream protocol {defaultUpstream}.", nameof(defaultUpstream));
    }

    /// <summary>The protocol of a model whose <c>Protocols</c> the config leaves out.</summary>
    public WireProtocol DefaultUpstreamProtocol { get; }

    public IReadOnlyList<ClientApi> ClientApis { get; }

    /// <summary>The protocols an upstream may speak, as a model's <c>Protocols</c> names them.</summary>
    public IReadOnlyList<WireProtocol> UpstreamProtocols { get; }

    /// <summary>Every place any client puts its key: all of them authenticate, and none reaches an upstream.</summary>
    public IReadOnlyList<CredentialSource> ClientCredentialSources { get; }

    public IReadOnlyDictionary<string, CredentialSource> UpstreamCredentials { get; }

    public IEnumerable<string> EndpointIds => _endpoints.Keys;

    /// <summary>The endpoint a route's <c>MixProxy.Api</c> names; null when none has that id.</summary>
    public ClientEndpoint? FindEndpoint(string id) => _endpoints.GetValueOrDefault(id);

    /// <summary>The upstream protocol a model's <c>Protocols</c> entry names; null when none has that name.</summary>
    public WireProtocol? FindProtocol(string name) => _protocols.GetValueOrDefault(name);

    /// <summary>
    /// The exchange for <paramref name="client"/> on an upstream speaking <paramref name="upstreamProtocols"/> (preferred
    /// first): the client's own protocol when the upstream speaks it (no translation), else the first it has a pair
    /// with; null when it has none.
    /// </summary>
    public Exchange? FindExchange(ClientApi client, IReadOnlyList<WireProtocol> upstreamProtocols)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(upstreamProtocols);
        if (upstreamProtocols.Contains(client.Protocol) && _exchanges.TryGetValue((client, client.Protocol), out var passthrough))
        {
            return passthrough;
        }

        foreach (var protocol in upstreamProtocols)
        {
            if (_exchanges.TryGetValue((client, protocol), out var exchange))
            {
                return exchange;
            }
        }

        return null;
    }

    /// <summary>
    /// The client API whose clients a request outside the API routes looks like (model listings, unknown paths): the
    /// first of <paramref name="candidates"/> (default: all) that claims it, else the first candidate.
    /// </summary>
    public ClientApi ClientApiFor(IRequestHead head, IReadOnlyList<ClientApi>? candidates = null)
    {
        candidates ??= ClientApis;
        foreach (var api in candidates)
        {
            if (api.Claims(head))
            {
                return api;
            }
        }

        return candidates[0];
    }

    /// <summary>Where a key may go, for the message to a client that sent none.</summary>
    public string DescribeClientCredentials()
    {
        var described = ClientCredentialSources.Select(source => source.Describe()).ToList();
        return described.Count == 1 ? described[0] : string.Join(", ", described[..^1]) + " or " + described[^1];
    }
}
