using MixProxy.Auth;
using MixProxy.Caching;
using MixProxy.Configuration;
using MixProxy.RateLimiting;
using MixProxy.Routing;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using MixProxy.Upstreams;

namespace MixProxy.Proxy;

/// <summary>
/// Everything the gateway learns about one request, as an <see cref="HttpContext"/> feature that each middleware fills
/// once, in pipeline order: the route and config generation (<see cref="GatewayRequestMiddleware"/>), the key
/// (authentication), the parsed request (parsing), the model and exchange (routing), the upstream call (the exchange),
/// the limit ticket (admission) and the cache entry (cache). Nothing downstream parses or resolves anything again
/// (but routing, when a body left unread turns out to be needed: it routes again once the body is in).
/// </summary>
internal sealed class GatewayRequest(GatewaySnapshot config, RouteSettings route, RequestTelemetry telemetry, IRequestHead head)
{
    private ClientKey? _key;
    private ClientRequest? _request;
    private ModelRoute? _model;
    private Exchange? _exchange;
    private UpstreamAttempts? _attempts;
    private bool? _wantsCache;
    private CompletionSlots _completions;
    private int _completionCount;

    /// <summary>
    /// The config generation the request runs on, whatever reloads meanwhile: the one it arrived on, until routing
    /// takes the one in force once the body is in (so model map, credentials and cluster come from one generation).
    /// </summary>
    public GatewaySnapshot Config { get; set; } = config;

    public RouteSettings Route { get; } = route;

    public ClientEndpoint Endpoint => Route.Endpoint;

    /// <summary>The client's protocol: every error the gateway writes for this request is in its shape.</summary>
    public ClientApi Api => Route.Endpoint.Api;

    public RequestTelemetry Telemetry { get; } = telemetry;

    /// <summary>The request's path, headers, query and route values as the protocol library reads them.</summary>
    public IRequestHead Head { get; } = head;

    public ClientKey Key { get => _key ?? throw NotYet(nameof(Key)); set => _key = value; }

    /// <summary>The request as its client API parsed it.</summary>
    public ClientRequest Request { get => _request ?? throw NotYet(nameof(Request)); set => _request = value; }

    /// <summary>The model map entry the current attempt goes to: the model the client asked for, or one of its fallbacks.</summary>
    public ModelRoute Model { get => _model ?? throw NotYet(nameof(Model)); set => _model = value; }

    /// <summary>The (client API, upstream protocol) pair the current attempt goes through.</summary>
    public Exchange Exchange { get => _exchange ?? throw NotYet(nameof(Exchange)); set => _exchange = value; }

    /// <summary>The upstream request and the response side; null until the exchange began.</summary>
    public ExchangeCall? Call { get; set; }

    /// <summary>What the exchange began the request's call with (a retry begins a fresh call with the same).</summary>
    public ExchangeSettings Settings { get; set; }

    /// <summary>The request's way through its model's destinations and fallbacks (set by routing).</summary>
    public UpstreamAttempts Attempts { get => _attempts ?? throw NotYet(nameof(Attempts)); set => _attempts = value; }

    /// <summary>The key's claim on its limits; null until admitted.</summary>
    public RateLimitTicket? RateLimit { get; set; }

    /// <summary>Whether the request takes part in the response cache (decided once, from the route, key and request).</summary>
    public bool WantsCache => _wantsCache ??= ResponseCachePolicy.Wants(Route, Key, Head);

    /// <summary>The response-cache entry this request reads and fills; null when it is not cached.</summary>
    public string? CacheKey { get; set; }

    /// <summary>Answered from the response cache: the upstream was not asked and no tokens were used.</summary>
    public bool ServedFromCache { get; set; }

    public bool Stream => Request.Stream;

    /// <summary>Has <paramref name="step"/> run once the response is over (see <see cref="IRequestCompletion"/>).</summary>
    public void OnCompleted(IRequestCompletion step)
    {
        if (_completionCount == CompletionSlots.Length)
        {
            throw new InvalidOperationException($"More than {CompletionSlots.Length} steps registered for the end of one response.");
        }

        _completions[_completionCount++] = step;
    }

    /// <summary>The registered steps, last registered first; each runs whatever the others did (its failure is logged).</summary>
    public async Task CompleteAsync(HttpContext context, ILogger logger)
    {
        for (var i = _completionCount - 1; i >= 0; i--)
        {
            try
            {
                await _completions[i].CompleteAsync(context, this).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The client went away while a step answered it: the other steps still run.
            }
            catch (Exception e)
            {
                GatewayLog.CompletionStepFailed(logger, Endpoint.Id, _completions[i].GetType().Name, e);
            }
        }
    }

    /// <summary>Lets go of the client's body (see <see cref="ClientRequest.ReleaseBody"/>), if it was parsed.</summary>
    public void ReleaseBody() => _request?.ReleaseBody();

    /// <summary>Room for the steps of one response, inside the request object: registering allocates nothing.</summary>
    [System.Runtime.CompilerServices.InlineArray(Length)]
    private struct CompletionSlots
    {
        public const int Length = 4;

        private IRequestCompletion _first;
    }

    private static InvalidOperationException NotYet(string what) => new($"GatewayRequest.{what} is read before the middleware that sets it ran.");
}

/// <summary>The request's <see cref="GatewayRequest"/>, which the first proxy middleware set.</summary>
internal static class GatewayRequestAccess
{
    public static GatewayRequest GetGatewayRequest(this HttpContext context) =>
        context.Features.Get<GatewayRequest>() ?? throw new InvalidOperationException("The request has no GatewayRequest: GatewayRequestMiddleware did not run.");
}
