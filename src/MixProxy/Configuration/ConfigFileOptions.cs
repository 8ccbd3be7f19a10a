using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MixProxy.Configuration;

/// <summary>
/// Where the config file is and how often to look at it: <c>--config</c> (or <c>MIXPROXY_CONFIG</c>) for the path,
/// the <c>MixProxy:Config</c> section for the interval; validated at start-up by <see cref="ConfigFileOptionsValidator"/>.
/// </summary>
internal sealed class ConfigFileOptions
{
    public const string Section = "MixProxy:Config";

    /// <summary>Set by the host from <c>--config</c> (or <c>MIXPROXY_CONFIG</c>); not read from the section.</summary>
    [Required]
    public string Path { get; set; } = "config/proxy.json";

    /// <summary>
    /// The file is polled rather than watched: polling also sees Kubernetes ConfigMap symlink swaps and
    /// network file systems, where inotify events go missing. Reading a small file twice a second is cheap.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>Checks <see cref="ConfigFileOptions"/> against its attributes; generated, so no reflection at start-up.</summary>
[OptionsValidator]
internal sealed partial class ConfigFileOptionsValidator : IValidateOptions<ConfigFileOptions>;
