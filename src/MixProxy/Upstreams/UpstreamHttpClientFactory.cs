using System.Globalization;
using MixProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace MixProxy.Upstreams;

/// <summary>
/// YARP's HTTP client per cluster, with what LLM upstreams need: pooled connections renewed every five minutes (to pick
/// up DNS changes of cloud endpoints; YARP keeps them forever) and the cluster's connect timeout
/// (<c>Resilience.Timeouts.Connect</c>, which the config loader puts in the cluster's metadata). A changed timeout
/// makes a new client.
/// </summary>
internal sealed class UpstreamHttpClientFactory(ILogger<ForwarderHttpClientFactory> logger) : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(handler);
        base.ConfigureHandler(context, handler);
        handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5);
        if (ConnectTimeout(context.NewMetadata) is { } timeout)
        {
            handler.ConnectTimeout = timeout;
        }
    }

    protected override bool CanReuseOldClient(ForwarderHttpClientContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return base.CanReuseOldClient(context) && ConnectTimeout(context.OldMetadata) == ConnectTimeout(context.NewMetadata);
    }

    private static TimeSpan? ConnectTimeout(IReadOnlyDictionary<string, string>? metadata) =>
        metadata?.GetValueOrDefault(MetadataKeys.ConnectTimeout) is { } text && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var timeout) ? timeout : null;
}
