using System.Net;
using System.Net.Sockets;

namespace MixProxy.Tests.Infrastructure;

/// <summary>What the tests ask of the machine they run on: a tool on the PATH, a free loopback port.</summary>
public static class LocalMachine
{
    /// <summary>The full path of <paramref name="name"/> on the PATH; null when it is not installed.</summary>
    public static string? FindBinary(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
