using System.Diagnostics;
using MixProxy.Proxy;

namespace MixProxy.Telemetry;

/// <summary>
/// Turns a request's timestamps, labels and outcome into metrics, once, when it is over. Requests the gateway answered
/// itself (bad key, unknown model, refused input, 429…) count in the client-view duration too, so error-rate panels
/// and alerts see them; their model labels are "none" (nothing was resolved).
/// </summary>
internal sealed class RequestMetrics(GatewayMetrics metrics, TelemetryOptions options)
{
    // Boxed once: a bool tag value would otherwise allocate on every request.
    private static readonly KeyValuePair<string, object?> TranslatedTag = new("mixproxy.translated", true);
    private static readonly KeyValuePair<string, object?> UntranslatedTag = new("mixproxy.translated", false);
    private static readonly KeyValuePair<string, object?> StreamDirection = new("mixproxy.translation.direction", "stream");

    public void Record(HttpContext context, GatewayRequest request)
    {
        if (request.RateLimit is null)
        {
            RecordRefused(context, request);
        }
        else
        {
            RecordCompletion(context, request);
        }
    }

    private void RecordRefused(HttpContext context, GatewayRequest request)
    {
        var tags = new TagList
        {
            { "gen_ai.operation.name", request.Endpoint.OperationName },
            { "gen_ai.provider.name", "none" },
            { "gen_ai.request.model", "none" },
            { "gen_ai.response.model", "none" },
            { "mixproxy.stream", false },
            { "http.response.status_code", context.Response.StatusCode },
        };
        metrics.ServerRequestDuration.Record(Stopwatch.GetElapsedTime(request.Telemetry.ArrivedAt).TotalSeconds, tags);
    }

    private void RecordCompletion(HttpContext context, GatewayRequest request)
    {
        var t = request.Telemetry;
        var end = Stopwatch.GetTimestamp();
        var tags = t.Tags;
        var total = GatewayMetrics.Seconds(t.ArrivedAt, end);
        var status = tags; // TagList is a value type: copies do not share their first eight tags
        status.Add("http.response.status_code", context.Response.StatusCode);
        metrics.ServerRequestDuration.Record(total, status);

        var upstream = t.UpstreamSentAt == 0 ? 0 : GatewayMetrics.Seconds(t.UpstreamSentAt, end);
        if (t.UpstreamSentAt != 0)
        {
            var upstreamTags = tags;
            if (t.UpstreamStatus is 0 or >= 400)
            {
                upstreamTags.Add("error.type", t.UpstreamStatus == 0 ? "no_response" : t.UpstreamStatus.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            metrics.OperationDuration.Record(upstream, upstreamTags);
        }

        var translates = request.Exchange.Translates;
        metrics.GatewayOverhead.Record(Math.Max(0, total - upstream), new KeyValuePair<string, object?>("gen_ai.operation.name", t.OperationName), translates ? TranslatedTag : UntranslatedTag);

        var outcome = request.Call!.Outcome;
        var stream = request.Stream;
        if (!request.ServedFromCache && outcome.Usage is { } usage && usage.Total > 0)
        {
            void Tokens(string type, long count)
            {
                var tokenTags = tags;
                tokenTags.Add("gen_ai.token.type", type);
                if (options.KeyLabels)
                {
                    tokenTags.Add("mixproxy.key", request.Key.Name);
                }

                metrics.TokenUsage.Record(count, tokenTags);
            }

            Tokens("input", usage.Input);
            Tokens("output", usage.Output);
            if (usage.Reasoning > 0)
            {
                Tokens("reasoning", usage.Reasoning);
            }

            if (usage.Cached > 0)
            {
                Tokens("cached", usage.Cached);
            }

            if (stream && t.FirstChunkAt != 0 && usage.Output > 1)
            {
                metrics.TimePerOutputToken.Record(GatewayMetrics.Seconds(t.FirstChunkAt, end) / (usage.Output - 1), tags);
            }
        }

        if (stream && t.FirstChunkAt != 0)
        {
            metrics.TimeToFirstToken.Record(GatewayMetrics.Seconds(t.ArrivedAt, t.FirstChunkAt), tags);
        }

        if (translates && stream && outcome.TranslationTicks > 0)
        {
            metrics.TranslationDuration.Record(outcome.TranslationTicks / (double)Stopwatch.Frequency, StreamDirection);
            metrics.TranslationBytes.Record(outcome.TranslatedBytes, StreamDirection);
        }

        if (translates && stream && outcome.Faulted)
        {
            metrics.TranslationErrors.Add(1, StreamDirection, new KeyValuePair<string, object?>("error.type", outcome.TranslationFault is null ? "upstream_error_event" : "gateway_error"));
        }
    }
}
