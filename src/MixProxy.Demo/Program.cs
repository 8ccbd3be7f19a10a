using MixProxy;
using MixProxy.Simulator;

// mixproxy-demo [--config PATH] [--urls URL] [--simulator-urls URL]
// The gateway on config/demo.json in front of the bundled simulator, both on loopback, with a printed demo key.
string? configPath = null;
var urls = Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? "http://127.0.0.1:8080";
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

configPath ??= Environment.GetEnvironmentVariable("MIXPROXY_CONFIG") ?? "config/demo.json";

// The simulator paces its answers like a real model, so streams are visibly streams.
await using var simulator = SimulatorApp.Build(simulatorUrl, new SimulatorOptions { FirstByteDelay = TimeSpan.FromMilliseconds(50), ChunkInterval = TimeSpan.FromMilliseconds(80) });
await simulator.StartAsync();

WebApplication gateway;
try
{
    gateway = await GatewayHost.BuildAsync(new GatewayHostSettings { ConfigPath = configPath, Urls = urls, Args = args });
    await gateway.StartAsync();
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

await using (gateway)
{
    var address = gateway.Urls.First();
    Console.WriteLine($$"""

        MixProxy demo is running on {{address}} (upstream: the simulator on {{SimulatorApp.Address(simulator)}}).
        Demo API key: {{DemoKey.Value}}

          curl {{address}}/v1/chat/completions -H "Authorization: Bearer {{DemoKey.Value}}" -H "Content-Type: application/json" \
            -d '{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hello"}]}'

          curl "{{address}}/v1beta/models/gemini-3.1-pro-preview:generateContent" -H "Authorization: Bearer {{DemoKey.Value}}" \
            -H "Content-Type: application/json" -d '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}'

        Config: {{Path.GetFullPath(configPath)}} (edit it while the gateway runs). Ctrl+C stops.

        """);
    await gateway.WaitForShutdownAsync();
}

await simulator.StopAsync();
return 0;

/// <summary>The demo key, printed at start-up; its hash is in config/demo.json. The demo listens on loopback only.</summary>
internal static class DemoKey
{
    public const string Value = "mixproxy-demo-key";
}
