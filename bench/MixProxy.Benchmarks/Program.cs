using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/MixProxy.Benchmarks -- --filter '*'
if (args is ["streams", ..]) { Environment.Exit(await MixProxy.Benchmarks.Streams.StreamBenchCommand.RunAsync(args).ConfigureAwait(false)); } // bench/streams.sh
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
