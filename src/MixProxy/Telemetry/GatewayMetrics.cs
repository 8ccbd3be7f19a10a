using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MixProxy.Telemetry;

/// <summary>
/// Every metric MixProxy records itself, on one <see cref="Meter"/>. Names follow the OpenTelemetry GenAI
/// semantic conventions where one exists (<c>gen_ai.*</c>), <c>mixproxy.*</c> otherwise; docs/metrics.md lists them
/// with their labels. Label values are bounded: models come from the model map, keys by configured name (opt-in).
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "MixProxy";

    // LLM calls run from milliseconds (a cached answer) to minutes (long thinking, long streams).
    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640];

    // Gateway overhead and translation are measured in fractions of a millisecond.
    private static readonly double[] FastSecondsBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];

    private static readonly long[] ByteBuckets = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName, typeof(GatewayMetrics).Assembly.GetName().Version?.ToString());

        TokenUsage = meter.CreateHistogram("gen_ai.client.token.usage", "{token}", "Tokens per request as the upstream reported them, by type (input, output, reasoning, cached).", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        OperationDuration = meter.CreateHistogram("gen_ai.client.operation.duration", "s", "Upstream call duration, from sending the request to the end of the response body.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        ServerRequestDuration = meter.CreateHistogram("gen_ai.server.request.duration", "s", "Gateway request duration as the client saw it, from arrival to the last byte.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        TimeToFirstToken = meter.CreateHistogram("gen_ai.server.time_to_first_token", "s", "Streams: time from the request's arrival to the first chunk sent to the client.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        TimePerOutputToken = meter.CreateHistogram("gen_ai.server.time_per_output_token", "s", "Streams: time per output token after the first chunk.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FastSecondsBuckets });

        LimiterDecisions = meter.CreateCounter<long>("mixproxy.limiter.decisions", "{request}", "Admission decisions by outcome (allowed, denied, unavailable) and the limit that decided.");
        LimiterStoreDuration = meter.CreateHistogram("mixproxy.limiter.store.duration", "s", "Round-trip time of limiter calls to Redis (admit, settle), by outcome.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FastSecondsBuckets });

        TranslationDuration = meter.CreateHistogram("mixproxy.translation.duration", "s", "Time spent translating, by direction (request, response, stream).", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FastSecondsBuckets });
        TranslationBytes = meter.CreateHistogram("mixproxy.translation.size", "By", "Bytes a translation produced, by direction.", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = ByteBuckets });
        TranslationErrors = meter.CreateCounter<long>("mixproxy.translation.errors", "{error}", "Requests or responses that could not be translated, by reason.");

        UpstreamTimeToFirstByte = meter.CreateHistogram("mixproxy.upstream.time_to_first_byte", "s", "Time from sending the upstream request to its response headers, per cluster and destination.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
        UpstreamResponses = meter.CreateCounter<long>("mixproxy.upstream.responses", "{response}", "Upstream responses by cluster, destination and status code (0: no response).");
        UpstreamAttempts = meter.CreateCounter<long>("mixproxy.upstream.attempts", "{attempt}", "Upstream attempts by cluster, destination and outcome (success, client_error, quota, credential_rejected, server_error, unreachable, timeout, broke_mid_stream).");
        Fallbacks = meter.CreateCounter<long>("mixproxy.upstream.fallbacks", "{request}", "Requests moved from a model to one of its fallbacks, by model and fallback.");
        Unserved = meter.CreateCounter<long>("mixproxy.upstream.unserved", "{request}", "Requests refused because no destination of the model or its fallbacks was available (429 quota, 503 down).");
        meter.CreateObservableGauge("mixproxy.upstream.available", () => DestinationStates().Select(s => new Measurement<int>(s.Available ? 1 : 0, s.Tags)), "{state}", "1 while a destination is in rotation, 0 while it cools down (reason label) or its active probe fails.");
        meter.CreateObservableGauge("mixproxy.upstream.cooldown.remaining", () => DestinationStates().Select(s => new Measurement<double>(s.CooldownSeconds, s.Tags)), "s", "Seconds until a destination is back in rotation: 0 while it is in, -1 while its key is refused (until the key changes or an operator resets it).");
        GatewayOverhead = meter.CreateHistogram("mixproxy.gateway.overhead", "s", "Gateway time per request: its total duration minus the upstream call.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FastSecondsBuckets });
        DroppedFields = meter.CreateCounter<long>("mixproxy.translation.dropped", "{field}", "Fields translation went without: request fields the upstream has no place for (they do not change the question), and fields of the upstream's answer the client's protocol has no place for; by field, client operation and direction.");
        StoredResultOperations = meter.CreateCounter<long>("mixproxy.stored_results.operations", "{operation}", "Operations on the results clients asked the gateway to store, by operation (save, read, delete) and result (ok, not_found, failed).");
        CacheLookups = meter.CreateCounter<long>("mixproxy.cache.lookups", "{lookup}", "Response-cache lookups by result (hit, miss).");

        ConfigReloads = meter.CreateCounter<long>("mixproxy.config.reloads", "{reload}", "Config file reloads by outcome (applied, rejected).");
        meter.CreateObservableGauge("mixproxy.config.generation", () => ConfigGeneration(), "{generation}", "The config generation in force.");
        meter.CreateObservableGauge("mixproxy.limiter.degraded", () => LimiterDegraded() ? 1 : 0, "{state}", "1 while Redis is unreachable and limits are enforced per process (or refused).");
    }

    public Histogram<long> TokenUsage { get; }

    public Histogram<double> OperationDuration { get; }

    public Histogram<double> ServerRequestDuration { get; }

    public Histogram<double> TimeToFirstToken { get; }

    public Histogram<double> TimePerOutputToken { get; }

    public Counter<long> LimiterDecisions { get; }

    public Histogram<double> LimiterStoreDuration { get; }

    public Histogram<double> TranslationDuration { get; }

    public Histogram<long> TranslationBytes { get; }

    public Counter<long> TranslationErrors { get; }

    public Histogram<double> UpstreamTimeToFirstByte { get; }

    public Counter<long> UpstreamResponses { get; }

    public Counter<long> UpstreamAttempts { get; }

    public Counter<long> Fallbacks { get; }

    public Counter<long> Unserved { get; }

    public Histogram<double> GatewayOverhead { get; }

    public Counter<long> CacheLookups { get; }

    public Counter<long> StoredResultOperations { get; }

    public Counter<long> DroppedFields { get; }

    /// <summary>The bounded <c>mixproxy.field</c> labels of <see cref="DroppedFields"/>.</summary>
    public DroppedFieldLabels DroppedFieldLabels { get; } = new();

    public Counter<long> ConfigReloads { get; }

    /// <summary>Set by the host once the config store and limiter exist (observable gauges read them at scrape time).</summary>
    public Func<long> ConfigGeneration { get; set; } = static () => 0;

    public Func<bool> LimiterDegraded { get; set; } = static () => false;

    /// <summary>Every destination of the config in force with its state, read at scrape time.</summary>
    public Func<IEnumerable<DestinationStateReading>> DestinationStates { get; set; } = static () => [];

    public static double Seconds(long startTimestamp, long endTimestamp) => Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalSeconds;
}

/// <summary>One destination's state for the upstream gauges: labels (cluster, destination, reason), in rotation or not, and the seconds until it is back (0 in rotation, -1 until reset).</summary>
internal readonly record struct DestinationStateReading(KeyValuePair<string, object?>[] Tags, bool Available, double CooldownSeconds);
