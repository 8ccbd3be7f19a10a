using MixProxy.RateLimiting;
using MixProxy.Upstreams;

namespace MixProxy.Telemetry;

/// <summary>
/// Every log line MixProxy writes itself, with its event id, in one place: ids are stable (alert rules and log
/// queries match them) and grouped by area. Source-generated, so a disabled level costs nothing. To add a line: an id
/// in its area's range, the message here, a call where it happens.
/// </summary>
internal static partial class GatewayLog
{
    // 100-199: configuration.
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Config file {Path} applied as generation {Generation}.")]
    public static partial void ConfigApplied(ILogger logger, string path, long generation);

    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "Config file {Path} rejected; generation {Generation} keeps serving. Problems:\n{Problems}")]
    public static partial void ConfigRejected(ILogger logger, string path, long generation, string problems);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Config file {Path} cannot be read ({Reason}); generation {Generation} keeps serving.")]
    public static partial void ConfigUnreadable(ILogger logger, string path, string reason, long generation);

    // 200-299: the request path.
    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Forwarding to cluster {Cluster} failed: {Error}.")]
    public static partial void ForwardFailed(ILogger logger, string cluster, string error);

    [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "A {Endpoint} request failed inside the gateway; the client got a 500.")]
    public static partial void RequestFailed(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(EventId = 202, Level = LogLevel.Error, Message = "Translating a {Exchange} stream failed inside the gateway; the client got an error event.")]
    public static partial void StreamTranslationFailed(ILogger logger, string exchange, Exception exception);

    [LoggerMessage(EventId = 203, Level = LogLevel.Error, Message = "A {Endpoint} request failed inside the gateway after its response had started; the connection was ended.")]
    public static partial void RequestFailedAfterStart(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(EventId = 204, Level = LogLevel.Error, Message = "A step after the {Endpoint} response ({Step}) failed inside the gateway.")]
    public static partial void CompletionStepFailed(ILogger logger, string endpoint, string step, Exception exception);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "The upstream of a {Exchange} stream broke off after the client got part of the answer; the client got an error event.")]
    public static partial void UpstreamBrokeOffMidStream(ILogger logger, string exchange, Exception exception);

    // 300-399: limits.
    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Redis is unreachable ({Reason}); limits now {Mode}: per-process limits (Open) or refusing (Closed).")]
    public static partial void LimiterDegraded(ILogger logger, RedisFailureMode mode, string reason);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Redis is reachable again; limits are shared across replicas.")]
    public static partial void LimiterRestored(ILogger logger);

    // 400-499: caches.
    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Response cache {Operation} failed ({Reason}); treated as a miss.")]
    public static partial void ResponseCacheFailed(ILogger logger, string operation, string reason);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Thought-signature cache {Operation} failed ({Reason}).")]
    public static partial void SignatureCacheFailed(ILogger logger, string operation, string reason);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Stored results {Operation} failed ({Reason}).")]
    public static partial void StoredResultsFailed(ILogger logger, string operation, string reason);

    // 500-599: upstream health, retries and fallbacks.
    [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "Upstream {Destination} is out of rotation ({Reason}, status {Status}) for {Seconds} s.")]
    public static partial void DestinationCooledDown(ILogger logger, string destination, CooldownReason reason, int status, double seconds);

    [LoggerMessage(EventId = 501, Level = LogLevel.Error, Message = "Upstream {Destination} refused the gateway's credential (status {Status}); it stays out of rotation until its key changes or an operator resets it.")]
    public static partial void DestinationCredentialRejected(ILogger logger, string destination, int status);

    [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "A {Model} request is retried: attempt {Attempt} on {Destination} failed ({Failure}).")]
    public static partial void AttemptRetried(ILogger logger, string model, int attempt, string destination, string failure);

    [LoggerMessage(EventId = 503, Level = LogLevel.Warning, Message = "No upstream of model {Model} is available ({Reason}); the client got {Status}.")]
    public static partial void NothingAvailable(ILogger logger, string model, string reason, int status);

    [LoggerMessage(EventId = 504, Level = LogLevel.Warning, Message = "Fallback model {Fallback} cannot serve a {Model} request: {Reason}.")]
    public static partial void FallbackUnusable(ILogger logger, string model, string fallback, string reason);

    [LoggerMessage(EventId = 505, Level = LogLevel.Warning, Message = "Sharing upstream cooldowns through Redis failed ({Reason}); this replica keeps its own until Redis answers.")]
    public static partial void CooldownSharingFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 506, Level = LogLevel.Information, Message = "Operator reset upstream {Destination}.")]
    public static partial void DestinationReset(ILogger logger, string destination);
}
