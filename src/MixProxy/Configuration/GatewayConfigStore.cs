using System.Globalization;
using Yarp.ReverseProxy.Configuration;

namespace MixProxy.Configuration;

/// <summary>
/// Holds the config generation in force and hands its routes and clusters to YARP. Requests read
/// <see cref="Current"/> once and use that snapshot throughout, so a reload never changes a request mid-flight.
/// </summary>
internal sealed class GatewayConfigStore
{
    private volatile GatewaySnapshot _current;

    /// <summary>Starts empty (generation 0); the host applies the file's first generation before it starts serving.</summary>
    public GatewayConfigStore()
    {
        _current = new GatewaySnapshot(0, [], [], new Dictionary<string, Routing.RouteSettings>(), new Dictionary<string, Upstreams.UpstreamCluster>(), new Routing.ModelMap([]), new Dictionary<string, Auth.ClientKey>());
        Proxy = new InMemoryConfigProvider(_current.Routes, _current.Clusters, Revision(_current));
    }

    public GatewaySnapshot Current => _current;

    /// <summary>The provider YARP reads; registered as an <see cref="IProxyConfigProvider"/>.</summary>
    public InMemoryConfigProvider Proxy { get; }

    public void Apply(GatewaySnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);

        // YARP first, so that a model pointing at a new cluster finds it once the model map switches.
        Proxy.Update(snapshot.Routes, snapshot.Clusters, Revision(snapshot));
        _current = snapshot;
    }

    private static string Revision(GatewaySnapshot snapshot) => snapshot.Generation.ToString(CultureInfo.InvariantCulture);
}
