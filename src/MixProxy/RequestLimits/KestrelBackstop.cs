using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace MixProxy.RequestLimits;

/// <summary>
/// Kestrel's own request-head limits, kept above the gateway's (<see cref="RequestLimitsOptions"/>). Kestrel enforces its
/// limits while it parses the request line and headers, before any middleware runs, and answers with the status alone
/// (an empty body, the connection closed): set above the gateway's, they only stop what is far past them, and every
/// request within reach of the documented limits gets the gateway's answer in its protocol. Left unset, each is
/// <see cref="Factor"/> times the gateway's; set in <c>Kestrel:Limits</c>, each must still be above the gateway's,
/// or the gateway does not start.
/// </summary>
internal sealed class KestrelBackstop(IConfiguration configuration, IOptions<RequestLimitsOptions> gateway)
    : IPostConfigureOptions<KestrelServerOptions>, IValidateOptions<KestrelServerOptions>
{
    /// <summary>How far above the gateway's limits Kestrel's own are set when the configuration leaves them out.</summary>
    public const int Factor = 4;

    /// <summary>A request line besides its target: the method, two spaces, the <c>?</c>, <c>HTTP/1.1</c> and the line break.</summary>
    private const int RequestLineOverhead = 64;

    private const string LineSize = "Kestrel:Limits:MaxRequestLineSize";
    private const string HeadersSize = "Kestrel:Limits:MaxRequestHeadersTotalSize";
    private const string HeaderCount = "Kestrel:Limits:MaxRequestHeaderCount";

    public void PostConfigure(string? name, KestrelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limits = gateway.Value;
        if (configuration[LineSize] is null)
        {
            options.Limits.MaxRequestLineSize = Factor * LongestLine(limits);
        }

        if (configuration[HeadersSize] is null)
        {
            options.Limits.MaxRequestHeadersTotalSize = Factor * limits.MaxHeadersTotalSize;
        }

        if (configuration[HeaderCount] is null)
        {
            options.Limits.MaxRequestHeaderCount = Factor * limits.MaxHeaderCount;
        }
    }

    public ValidateOptionsResult Validate(string? name, KestrelServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limits = gateway.Value;
        var failures = new List<string>();
        Check(LineSize, options.Limits.MaxRequestLineSize, LongestLine(limits), "MaxPathLength + MaxQueryLength + " + RequestLineOverhead);
        Check(HeadersSize, options.Limits.MaxRequestHeadersTotalSize, limits.MaxHeadersTotalSize, nameof(RequestLimitsOptions.MaxHeadersTotalSize));
        Check(HeaderCount, options.Limits.MaxRequestHeaderCount, limits.MaxHeaderCount, nameof(RequestLimitsOptions.MaxHeaderCount));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(string setting, int kestrel, int gatewayLimit, string gatewaySetting)
        {
            if (kestrel <= gatewayLimit)
            {
                failures.Add($"{setting} ({kestrel}) must be larger than {RequestLimitsOptions.Section}:{gatewaySetting} ({gatewayLimit}): Kestrel would refuse "
                    + $"requests the gateway answers itself, with an empty body. Leave it unset ({Factor} times the gateway's limit) or raise it.");
            }
        }
    }

    private static int LongestLine(RequestLimitsOptions limits) => limits.MaxPathLength + limits.MaxQueryLength + RequestLineOverhead;
}
