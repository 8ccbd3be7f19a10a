using System.Diagnostics;
using MixProxy.Routing;
using MixProxy.Translation.Protocols;

namespace MixProxy.Telemetry;

/// <summary>
/// Timestamps and labels of one request, filled along the way (middleware, transforms, streams) and turned into
/// metrics once, when the request is over. Labels are computed once from the model map, never from client strings.
/// </summary>
internal sealed class RequestTelemetry(long arrivedAt)
{
    public long ArrivedAt { get; } = arrivedAt;

    /// <summary>When the first attempt's request left (the upstream call, as the client waited for it, starts here).</summary>
    public long UpstreamSentAt { get; set; }

    /// <summary>When the current attempt's request left (its time to first byte is measured from here).</summary>
    public long AttemptSentAt { get; set; }

    public long UpstreamHeadersAt { get; set; }

    public long FirstChunkAt { get; set; }

    /// <summary>The upstream's own status code (before any translation of errors); 0 when none arrived.</summary>
    public int UpstreamStatus { get; set; }

    public TagList Tags { get; private set; }

    /// <summary>The <c>gen_ai.operation.name</c> label, kept apart so per-request metrics need not search <see cref="Tags"/>.</summary>
    public string OperationName { get; private set; } = "none";

    /// <summary>The labels of a request for <paramref name="requestedModel"/> (resolved to <paramref name="model"/>) answered by <paramref name="answering"/>: the model itself, or one of its fallbacks.</summary>
    public void Describe(ClientEndpoint endpoint, WireProtocol upstream, ModelRoute model, string requestedModel, bool stream, ModelRoute? answering = null)
    {
        var modelLabel = model.IsPattern ? model.Name : requestedModel;
        var responseModel = answering is null || answering == model ? model.UpstreamModel ?? modelLabel : answering.UpstreamModel ?? answering.Name;
        OperationName = endpoint.OperationName;
        Tags = new TagList
        {
            { "gen_ai.operation.name", OperationName },
            { "gen_ai.provider.name", upstream.ProviderName },
            { "gen_ai.request.model", modelLabel },
            { "gen_ai.response.model", responseModel },
            { "mixproxy.stream", stream },
        };
    }
}
