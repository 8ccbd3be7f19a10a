using MixProxy.Auth;
using MixProxy.Configuration;
using MixProxy.RateLimiting;
using MixProxy.Telemetry;
using MixProxy.Routing;
using MixProxy.Translation;

namespace MixProxy.Proxy;

/// <summary>
/// Everything the gateway learned about a request before forwarding it, parsed once and carried as an
/// <see cref="HttpContext"/> feature to the transforms (and, later, limits and metrics).
/// </summary>
internal sealed class GatewayRequest
{
    public required GatewaySnapshot Config { get; init; }

    public required RouteSettings Route { get; init; }

    public required ClientKey Key { get; init; }

    /// <summary>The model name as the client sent it.</summary>
    public required string RequestedModel { get; init; }

    public required ModelRoute Model { get; init; }

    public required ApiProtocol UpstreamProtocol { get; init; }

    public required bool Stream { get; init; }

    public bool IncludeUsage { get; init; }

    /// <summary>The translated request turned on Google Search (its answer may carry grounding to cite).</summary>
    public bool SearchGrounding { get; init; }

    /// <summary>
    /// The body to send upstream (translated, rewritten or replayed); null to stream the client's body through
    /// untouched. The request transform takes it (and sets this to null), so a stream that stays open for minutes
    /// does not keep a request body that can be megabytes of history and images.
    /// </summary>
    public ReadOnlyMemory<byte>? UpstreamBody { get; set; }

    /// <summary>The upstream path when it differs from the client's (translation, model alias).</summary>
    public string? UpstreamPath { get; init; }

    public required long Created { get; init; }

    public required RequestTelemetry Telemetry { get; init; }

    public UsageSink Usage { get; } = new();

    /// <summary>Thought signatures the upstream issued in this response, remembered for the next turn.</summary>
    public ThoughtSignatureBag IssuedSignatures { get; } = new();

    /// <summary>The key's claim on its limits, settled by the middleware once the response is over.</summary>
    public required RateLimitTicket RateLimit { get; init; }

    /// <summary>The response-cache entry this request reads and fills; null when it is not cached.</summary>
    public string? CacheKey { get; init; }

    public TimeSpan CacheTtl { get; init; }

    /// <summary>Set by the response transform for translated streams: did the stream end in an error event?</summary>
    public Func<bool> StreamFaulted { get; set; } = static () => false;



    public ApiProtocol ClientProtocol => Route.Api.Protocol();

    public bool Translates => ClientProtocol != UpstreamProtocol;

    /// <summary>The provider page's <c>output.text</c> goes on whole (non-streamed) generation responses only.</summary>
    public bool AddsOutputText => Route.OutputText && !Stream && Route.Api != ClientApi.GeminiCountTokens;

    public string UpstreamModel => Model.UpstreamModel ?? RequestedModel;
}
