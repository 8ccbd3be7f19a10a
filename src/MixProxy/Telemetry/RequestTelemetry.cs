using System.Diagnostics;
using MixProxy.Routing;
using MixProxy.Translation;

namespace MixProxy.Telemetry;

/// <summary>
/// Timestamps and labels of one request, filled along the way (middleware, transforms, streams) and turned into
/// metrics once, when the request is over. Labels are computed once from the model map, never from client strings.
/// </summary>
internal sealed class RequestTelemetry
{
    public RequestTelemetry(long arrivedAt) => ArrivedAt = arrivedAt;

    public long ArrivedAt { get; }

    public long UpstreamSentAt { get; set; }

    public long UpstreamHeadersAt { get; set; }

    public long FirstChunkAt { get; set; }

    /// <summary>The upstream's own status code (before any translation of errors); 0 when none arrived.</summary>
    public int UpstreamStatus { get; set; }

    public bool StreamTranslated { get; set; }

    /// <summary>For translated streams: time spent in the translator (Stopwatch ticks) and bytes it produced, read at the end.</summary>
    public Func<(long Ticks, long Bytes)> StreamStats { get; set; } = static () => (0, 0);

    public TagList Tags { get; private set; }

    /// <summary>The <c>gen_ai.operation.name</c> label, kept apart so per-request metrics need not search <see cref="Tags"/>.</summary>
    public string OperationName { get; private set; } = "none";

    public void Describe(ClientApi api, ApiProtocol upstream, ModelRoute model, string requestedModel, bool stream)
    {
        var modelLabel = model.IsPattern ? model.Name : requestedModel;
        OperationName = api == ClientApi.OpenAIChat ? "chat" : api == ClientApi.GeminiCountTokens ? "count_tokens" : "generate_content";
        Tags = new TagList
        {
            { "gen_ai.operation.name", OperationName },
            { "gen_ai.provider.name", upstream == ApiProtocol.Gemini ? "gcp.gemini" : "openai" },
            { "gen_ai.request.model", modelLabel },
            { "gen_ai.response.model", model.UpstreamModel ?? modelLabel },
            { "mixproxy.stream", stream },
        };
    }
}
