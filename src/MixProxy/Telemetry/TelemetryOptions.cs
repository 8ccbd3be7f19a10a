namespace MixProxy.Telemetry;

/// <summary>
/// Metrics settings, from the <c>MixProxy:Telemetry</c> configuration section; validated at start-up. Traces go to
/// OTLP when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable is set. To add a setting: a property here,
/// its check in <see cref="Validate"/>, a row in docs/metrics.md.
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "MixProxy:Telemetry";

    /// <summary>
    /// When set, <c>/metrics</c> is served only on this extra port (e.g. 9464, bound to <see cref="MetricsAddress"/>).
    /// When not set, <c>/metrics</c> is on the main port and answers loopback clients only.
    /// </summary>
    public int? MetricsPort { get; set; }

    public string MetricsAddress { get; set; } = "0.0.0.0";

    /// <summary>Label token metrics with the client key's configured name (never the key). Off by default: one series per key.</summary>
    public bool KeyLabels { get; set; }

    public IEnumerable<string> Validate()
    {
        if (MetricsPort is < 1 or > 65535)
        {
            yield return $"{Section}:MetricsPort must be a port number (1-65535).";
        }

        if (!System.Net.IPAddress.TryParse(MetricsAddress, out _))
        {
            yield return $"{Section}:MetricsAddress must be an IP address.";
        }
    }
}
