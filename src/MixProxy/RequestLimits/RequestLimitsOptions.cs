using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MixProxy.RequestLimits;

/// <summary>
/// The largest request head the gateway takes, from the <c>MixProxy:RequestLimits</c> section, validated at start-up.
/// A request over one of them is refused by <see cref="RequestLimitsMiddleware"/> with 414 or 431 and an error body in
/// the caller's protocol; Kestrel's own limits are set above them as a backstop (<see cref="KestrelBackstop"/>). To add a
/// setting: a property here with its validation attribute, its check in the middleware, a row in docs/configuration.md.
/// </summary>
public sealed class RequestLimitsOptions
{
    public const string Section = "MixProxy:RequestLimits";

    /// <summary>The longest path, in bytes as sent (a percent escape counts three). Gemini paths with a model name run to about 250.</summary>
    [Range(64, 65536)]
    public int MaxPathLength { get; set; } = 4096;

    /// <summary>The longest query string, in bytes as sent, without its <c>?</c>.</summary>
    [Range(64, 65536)]
    public int MaxQueryLength { get; set; } = 4096;

    /// <summary>The most header fields (each repeat of a name counts): Kestrel's own default.</summary>
    [Range(16, 10000)]
    public int MaxHeaderCount { get; set; } = 100;

    /// <summary>The most bytes of header fields, each counted as <c>name: value</c> and a line break: Kestrel's own default.</summary>
    [Range(4096, 1048576)]
    public int MaxHeadersTotalSize { get; set; } = 32 * 1024;
}

/// <summary>Checks <see cref="RequestLimitsOptions"/> against its attributes; generated, so no reflection at start-up.</summary>
[OptionsValidator]
internal sealed partial class RequestLimitsOptionsValidator : IValidateOptions<RequestLimitsOptions>;
