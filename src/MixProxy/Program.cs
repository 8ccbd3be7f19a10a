using MixProxy;
using MixProxy.Auth;
using MixProxy.Simulator;

// mixproxy [--config PATH] [--urls URLS] [--demo]   run the gateway
// mixproxy hash-key [KEY]                          print the config hash of KEY (read from stdin when omitted)
// mixproxy new-key                                 print a new random key and its hash
if (args is ["hash-key", ..])
{
    var key = args.Length > 1 ? args[1] : Console.In.ReadLine()?.Trim();
    if (string.IsNullOrEmpty(key))
    {
        Console.Error.WriteLine("usage: mixproxy hash-key KEY   (or pipe the key on stdin)");
        return 2;
    }

    Console.WriteLine(ApiKeyHash.Compute(key));
    return 0;
}

if (args is ["new-key", ..])
{
    var key = ApiKeyHash.NewKey();
    Console.WriteLine($"key:  {key}");
    Console.WriteLine($"hash: {ApiKeyHash.Compute(key)}");
    return 0;
}

var demo = args.Contains("--demo");
string? configPath = null;
string? urls = null;
var simulatorUrl = "http://127.0.0.1:8090";
for (var i = 0; i < args.Length - 1; i++)
{
    switch (args[i])
    {
        case "--config": configPath = args[i + 1]; break;
        case "--urls": urls = args[i + 1]; break;
        case "--simulator-urls": simulatorUrl = args[i + 1]; break;
    }
}

configPath ??= Environment.GetEnvironmentVariable("MIXPROXY_CONFIG") ?? (demo ? "config/demo.json" : "config/proxy.json");
if (demo)
{
    urls ??= Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? "http://127.0.0.1:8080";
}

WebApplication? simulator = null;
if (demo)
{
    // Demo mode: the bundled simulator is the upstream, in this same process.
    simulator = SimulatorApp.Build(simulatorUrl, new SimulatorOptions { FirstByteDelay = TimeSpan.FromMilliseconds(50), ChunkInterval = TimeSpan.FromMilliseconds(80) });
    await simulator.StartAsync();
}

WebApplication gateway;
try
{
    gateway = await GatewayHost.BuildAsync(new GatewayHostSettings { ConfigPath = configPath, Urls = urls, Args = args });
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

await gateway.StartAsync();
if (demo)
{
    var address = gateway.Urls.First();
    Console.WriteLine($$"""

        MixProxy demo is running on {{address}} (upstream: the simulator on {{SimulatorApp.Address(simulator!)}}).
        Demo API key: {{DemoKey.Value}}

          curl {{address}}/v1/chat/completions -H "Authorization: Bearer {{DemoKey.Value}}" -H "Content-Type: application/json" \
            -d '{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hello"}]}'

          curl "{{address}}/v1beta/models/gemini-3.1-pro-preview:generateContent" -H "Authorization: Bearer {{DemoKey.Value}}" \
            -H "Content-Type: application/json" -d '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}'

        Config: {{Path.GetFullPath(configPath)}} (edit it while the gateway runs). Ctrl+C stops.

        """);
}

await gateway.WaitForShutdownAsync();
if (simulator is not null)
{
    await simulator.StopAsync();
}

return 0;

/// <summary>The demo key, printed at start-up; its hash is in config/demo.json. Demo mode listens on loopback only.</summary>
internal static class DemoKey
{
    public const string Value = "mixproxy-demo-key";
}
