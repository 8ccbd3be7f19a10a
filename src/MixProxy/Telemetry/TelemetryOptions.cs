using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MixProxy.Telemetry;

/// <summary>
/// Metrics settings, from the <c>MixProxy:Telemetry</c> configuration section, validated at start-up by
/// <see cref="TelemetryOptionsValidator"/>. Traces go to OTLP when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
/// variable is set. To add a setting: a property here, its validation attribute, a row in docs/metrics.md.
/// </summary>
public sealed class TelemetryOptions : IValidatableObject
{
    public const string Section = "MixProxy:Telemetry";

    /// <summary>
    /// When set, <c>/metrics</c> is served only on this extra port (e.g. 9464, bound to <see cref="MetricsAddress"/>).
    /// When not set, <c>/metrics</c> is on the main port and answers loopback clients only.
    /// </summary>
    [Range(1, 65535)]
    public int? MetricsPort { get; set; }

    public string MetricsAddress { get; set; } = "0.0.0.0";

    /// <summary>Label token metrics with the client key's configured name (never the key). Off by default: one series per key.</summary>
    public bool KeyLabels { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!System.Net.IPAddress.TryParse(MetricsAddress, out _))
        {
            yield return new ValidationResult($"{nameof(MetricsAddress)} must be an IP address.", [nameof(MetricsAddress)]);
        }
    }
}

/// <summary>Checks <see cref="TelemetryOptions"/> against its attributes and its own rule; generated, so no reflection at start-up.</summary>
[OptionsValidator]
internal sealed partial class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>;
