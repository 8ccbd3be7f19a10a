using MixProxy;
using MixProxy.Auth;

// mixproxy [--config PATH] [--urls URLS]   run the gateway
// mixproxy hash-key [KEY]                 print the config hash of KEY (read from stdin when omitted)
// mixproxy new-key                        print a new random key and its hash
// mixproxy probe [URL]                    exit 0 when URL (the readiness endpoint) answers 2xx: the image's HEALTHCHECK
// (The demo, with the bundled upstream simulator, is its own program: src/MixProxy.Demo.)
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

if (args is ["probe", ..])
{
    return await MixProxy.Lifecycle.HealthProbe.RunAsync(args.Length > 1 ? args[1] : null);
}

string? configPath = null;
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--config")
    {
        configPath = args[i + 1];
    }
}

configPath ??= Environment.GetEnvironmentVariable("MIXPROXY_CONFIG") ?? "config/proxy.json";
try
{
    await using var gateway = await GatewayHost.BuildAsync(new GatewayHostSettings { ConfigPath = configPath, Args = args });
    await gateway.RunAsync();
    return 0;
}
catch (InvalidOperationException e)
{
    // A config file or setting that cannot be used: say what is wrong, without a stack trace.
    Console.Error.WriteLine(e.Message);
    return 1;
}
