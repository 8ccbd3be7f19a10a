namespace MixProxy.Benchmarks.Streams;

/// <summary>
/// Entry point of the stream benchmarks that bench/streams.sh drives:
/// <c>streams ttft|holdback|slow --name value …</c>. Each mode prints a Markdown table (or row) on stdout and
/// diagnostics on stderr, and gives up after <c>--max-seconds</c> (default 300) so no run can hang a script.
/// </summary>
internal static class StreamBenchCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 2 || args[0] != "streams")
        {
            Console.Error.WriteLine("usage: MixProxy.Benchmarks streams ttft|holdback|slow --name value …  (see bench/streams.sh)");
            return 2;
        }

        var options = new StreamBenchArguments(args.Skip(2));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.Int("max-seconds", 300)));
        try
        {
            return args[1] switch
            {
                "ttft" => await TimeToFirstTokenBench.RunAsync(options, deadline.Token).ConfigureAwait(false),
                "holdback" => await HoldBackBench.RunAsync(options, deadline.Token).ConfigureAwait(false),
                "slow" => await SlowStreamsBench.RunAsync(options, deadline.Token).ConfigureAwait(false),
                _ => throw new ArgumentException($"Unknown stream benchmark '{args[1]}'."),
            };
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            Console.Error.WriteLine($"streams {args[1]}: gave up after --max-seconds {options.Int("max-seconds", 300)}");
            return 3;
        }
    }
}
