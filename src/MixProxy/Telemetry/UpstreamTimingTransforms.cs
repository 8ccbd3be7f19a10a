using System.Diagnostics;
using MixProxy.Proxy;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Telemetry;

/// <summary>Notes when the upstream request leaves (the last request transform): each attempt's, and the first one's.</summary>
internal sealed class UpstreamSentTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var telemetry = context.HttpContext.GetGatewayRequest().Telemetry;
        telemetry.AttemptSentAt = Stopwatch.GetTimestamp();
        if (telemetry.UpstreamSentAt == 0)
        {
            // Time spent on failed attempts and their backoff is the upstream's, not the gateway's overhead.
            telemetry.UpstreamSentAt = telemetry.AttemptSentAt;
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>Upstream time to first byte and status, per cluster and destination (the first response transform).</summary>
internal sealed class UpstreamResponseObserver(GatewayMetrics metrics) : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.GetGatewayRequest();
        var telemetry = request.Telemetry;
        telemetry.UpstreamHeadersAt = Stopwatch.GetTimestamp();
        telemetry.UpstreamStatus = context.ProxyResponse is { } response ? (int)response.StatusCode : 0;
        var cluster = new KeyValuePair<string, object?>("mixproxy.cluster", request.Model.ClusterId);
        var destination = new KeyValuePair<string, object?>("mixproxy.destination", context.HttpContext.GetReverseProxyFeature().ProxiedDestination?.DestinationId ?? "none");
        metrics.UpstreamResponses.Add(1, cluster, destination, new KeyValuePair<string, object?>("http.response.status_code", telemetry.UpstreamStatus));
        if (telemetry.AttemptSentAt != 0 && context.ProxyResponse is not null)
        {
            metrics.UpstreamTimeToFirstByte.Record(GatewayMetrics.Seconds(telemetry.AttemptSentAt, telemetry.UpstreamHeadersAt), cluster, destination);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Streams: notes when the first chunk leaves for the client (time to first token).</summary>
internal sealed class FirstChunkObserver : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.GetGatewayRequest();
        if (!request.Stream || context.ProxyResponse is not { } upstream || context.HttpContext.Response.StatusCode != 200 || context.SuppressResponseBody)
        {
            return ValueTask.CompletedTask;
        }

        var telemetry = request.Telemetry;
        var attempts = request.Attempts;
        var inner = upstream.Content.ReadAsStream(context.CancellationToken);
        upstream.Content = new StreamContent(new FirstDataStream(inner, () =>
        {
            telemetry.FirstChunkAt = Stopwatch.GetTimestamp();
            attempts.FirstByteArrived();
        }));
        return ValueTask.CompletedTask;
    }
}
