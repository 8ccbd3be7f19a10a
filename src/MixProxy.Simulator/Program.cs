using System.Globalization;
using MixProxy.Simulator;

// Standalone simulator: dotnet run --project src/MixProxy.Simulator -- [--urls URL] [--latency-ms N] [--chunk-interval-ms N] [--chunks N] [--key KEY]
var options = new SimulatorOptions();
var url = "http://127.0.0.1:8090";
for (var i = 0; i + 1 < args.Length; i += 2)
{
    var value = args[i + 1];
    switch (args[i])
    {
        case "--urls": url = value; break;
        case "--latency-ms": options.FirstByteDelay = TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture)); break;
        case "--chunk-interval-ms": options.ChunkInterval = TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture)); break;
        case "--chunks": options.StreamChunks = int.Parse(value, CultureInfo.InvariantCulture); break;
        case "--key": options.RequiredKey = value; break;
        case "--error-rate": options.ErrorRate = double.Parse(value, CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine($"Unknown option {args[i]}");
            return 2;
    }
}

var app = SimulatorApp.Build(url, options);
await app.StartAsync();
Console.WriteLine($"MixProxy simulator listening on {SimulatorApp.Address(app)}");
await app.WaitForShutdownAsync();
return 0;
