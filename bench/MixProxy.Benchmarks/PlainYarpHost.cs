using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace MixProxy.Benchmarks;

/// <summary>
/// The "plain YARP" baseline of bench/load.sh: YARP 2.3 forwarding every path to one destination with its default
/// transforms and HTTP client, on the same host defaults as the gateway and none of MixProxy's work (no auth, model
/// map, limits, translation, usage parsing or MixProxy metrics). The gap between this row and direct is what YARP and
/// one more loopback hop cost; the gap between MixProxy and this row is what MixProxy itself adds.
/// </summary>
/// <remarks>yarp --urls http://127.0.0.1:18070 --destination http://127.0.0.1:18090</remarks>
internal static class PlainYarpHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? urls = null;
        string? destination = null;
        for (var i = 1; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--urls": urls = args[i + 1]; break;
                case "--destination": destination = args[i + 1]; break;
            }
        }

        if (urls is null || destination is null)
        {
            Console.Error.WriteLine("usage: yarp --urls URL --destination URL");
            return 2;
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ApplicationName = typeof(PlainYarpHost).Assembly.GetName().Name });
        builder.WebHost.UseUrls(urls);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "{**catch-all}" } }],
            [new ClusterConfig { ClusterId = "upstream", Destinations = new Dictionary<string, DestinationConfig> { ["d"] = new() { Address = destination } } }]);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }
}
