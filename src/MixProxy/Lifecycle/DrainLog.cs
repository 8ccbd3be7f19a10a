namespace MixProxy.Lifecycle;

/// <summary>
/// The shutdown's log lines (event ids 600–609). Kept beside the drain rather than in Telemetry/GatewayLog.cs so the
/// feature stays in one folder; the ids are reserved there too.
/// </summary>
internal static partial class DrainLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Shutting down: readiness fails, new requests are refused, requests in flight have {Seconds} s to finish.")]
    public static partial void Draining(ILogger logger, double seconds);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "The drain time ({Seconds} s) ran out; streams still open end with an error event.")]
    public static partial void DrainTimeRanOut(ILogger logger, double seconds);
}
