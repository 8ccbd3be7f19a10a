using BenchmarkDotNet.Running;
using MixProxy.Benchmarks;

// dotnet run -c Release --project bench/MixProxy.Benchmarks -- --filter '*'     translator micro-benchmarks
// MixProxy.Benchmarks latency --url URL --body FILE ...                        closed-loop latency probe (bench/load.sh)
// MixProxy.Benchmarks yarp --urls URL --destination URL                         plain YARP baseline host (bench/load.sh)
// MixProxy.Benchmarks streams ...                                               stream benchmarks (bench/streams.sh)
// MixProxy.Benchmarks heap dump|diff ...                                        what an open stream holds, by type (bench/heap.sh)
return args switch
{
    ["latency", ..] => await LatencyClient.RunAsync(args).ConfigureAwait(false),
    ["yarp", ..] => await PlainYarpHost.RunAsync(args).ConfigureAwait(false),
    ["streams", ..] => await MixProxy.Benchmarks.Streams.StreamBenchCommand.RunAsync(args).ConfigureAwait(false),
    ["heap", ..] => await MixProxy.Benchmarks.Heap.HeapCensusCommand.RunAsync(args).ConfigureAwait(false),
    _ => Run(args),
};

static int Run(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    return 0;
}
