using MixProxy.RateLimiting;

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
}
