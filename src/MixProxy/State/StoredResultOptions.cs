using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MixProxy.State;

/// <summary>
/// How long the gateway keeps the results its clients ask it to store (Responses API responses with <c>store</c>
/// on, on translated routes), from the <c>MixProxy:StoredResults</c> section. They live where the caches do: in Redis
/// when configured (every replica reads them), in this process otherwise.
/// </summary>
public sealed class StoredResultOptions
{
    public const string Section = "MixProxy:StoredResults";

    /// <summary>
    /// A day by default, which bounds what an in-process store holds; OpenAI keeps responses 30 days
    /// (<c>30.00:00:00</c>) and clients that chain long-lived conversations may need that.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>Checks <see cref="StoredResultOptions"/> against its attributes; generated, so no reflection at start-up.</summary>
[OptionsValidator]
internal sealed partial class StoredResultOptionsValidator : IValidateOptions<StoredResultOptions>;
