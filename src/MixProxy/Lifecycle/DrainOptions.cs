using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MixProxy.Lifecycle;

/// <summary>
/// How the gateway shuts down, from the <c>MixProxy:Lifecycle</c> section, validated at start-up. To add a setting: a
/// property here with its validation attribute, a row in docs/configuration.md.
/// </summary>
public sealed class DrainOptions
{
    public const string Section = "MixProxy:Lifecycle";

    /// <summary>
    /// How long requests and streams in flight may run on after SIGTERM. Streams still open then end with an error event
    /// in their protocol. An orchestrator's grace period must be longer (Kubernetes: preStop pause + this + a few seconds).
    /// Two minutes by default: long reasoning streams run that long, and a rollout with surge capacity can wait.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>Checks <see cref="DrainOptions"/> against its attributes; generated, so no reflection at start-up.</summary>
[OptionsValidator]
internal sealed partial class DrainOptionsValidator : IValidateOptions<DrainOptions>;
