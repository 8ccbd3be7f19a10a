namespace MixProxy.Benchmarks.Streams;

/// <summary>
/// Time to first token at concurrency 1: directly to the simulator and through the gateway (OpenAI passthrough,
/// Gemini passthrough, OpenAI → Gemini translated). Scenarios take turns request by request, starting each round
/// with the next one, so machine noise and drift land on all of them alike; "added" compares each gateway row with
/// the direct call of the upstream protocol it makes.
/// </summary>
internal static class TimeToFirstTokenBench
{
    private sealed record Scenario(string Name, StreamRequest Request, int Baseline);

    public static async Task<int> RunAsync(StreamBenchArguments args, CancellationToken cancellationToken)
    {
        var sim = args.Uri("sim");
        var gw = args.Uri("gw");
        var n = args.Int("n", 300);
        var warmup = args.Int("warmup", 300);
        var reps = args.Int("reps", 3);
        var chunks = args.Int("chunks", 4);

        // Index of the baseline row each gateway row is compared with (-1: the row is a baseline).
        Scenario[] scenarios =
        [
            new("direct: OpenAI chat", StreamRequest.Chat(sim, "gpt-bench", chunks, 0), -1),
            new("MixProxy: OpenAI passthrough", StreamRequest.Chat(gw, "gpt-bench", chunks, 0), 0),
            new("direct: Gemini streamGenerateContent", StreamRequest.Gemini(sim, "gemini-bench", chunks, 0), -1),
            new("MixProxy: Gemini passthrough", StreamRequest.Gemini(gw, "gemini-bench", chunks, 0), 2),
            new("MixProxy: OpenAI -> Gemini translated", StreamRequest.Chat(gw, "gemini-bench", chunks, 0), 2),
        ];

        var cpu = new CpuAccount(args.Int("gw-pid", 0), args.Int("sim-pid", 0));
        using var client = StreamProbe.CreateClient(64);
        await RoundsAsync(client, scenarios, warmup, null, cancellationToken).ConfigureAwait(false);

        var gatewayPid = args.Int("gw-pid", 0);
        var gatewayCpuBefore = CpuAccount.ProcessMs(gatewayPid);
        var p50 = scenarios.Select(_ => new List<double>()).ToArray();
        var p99 = scenarios.Select(_ => new List<double>()).ToArray();
        var failed = new int[scenarios.Length];
        for (var rep = 0; rep < reps; rep++)
        {
            var samples = scenarios.Select(_ => new List<double>(n)).ToArray();
            failed = failed.Zip(await RoundsAsync(client, scenarios, n, samples, cancellationToken).ConfigureAwait(false), (a, b) => a + b).ToArray();
            for (var s = 0; s < scenarios.Length; s++)
            {
                // The tail in detail, for reading the p99: how many streams were slow, and how slow.
                Console.Error.WriteLine($"  # rep {rep + 1} {scenarios[s].Name}: p90 {Stats.F(Stats.Percentile(samples[s], 0.9))} ms, max {Stats.F(samples[s].DefaultIfEmpty(double.NaN).Max())} ms, {samples[s].Count(x => x > 2)} of {samples[s].Count} over 2 ms");
                p50[s].Add(Stats.Percentile(samples[s], 0.50));
                p99[s].Add(Stats.Percentile(samples[s], 0.99));
            }
        }

        Console.WriteLine($"| stream (c=1, {chunks} chunks) | TTFT p50 ms | TTFT p99 ms | added p50 ms | added p99 ms | failed |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        for (var s = 0; s < scenarios.Length; s++)
        {
            var b = scenarios[s].Baseline;
            var added50 = b < 0 ? "-" : Stats.Spread(p50[s].Zip(p50[b], (g, d) => g - d).ToList());
            var added99 = b < 0 ? "-" : Stats.Spread(p99[s].Zip(p99[b], (g, d) => g - d).ToList());
            Console.WriteLine($"| {scenarios[s].Name} | {Stats.Spread(p50[s])} | {Stats.Spread(p99[s])} | {added50} | {added99} | {failed[s]} of {n * reps} |");
        }

        // Gateway CPU per stream through it: what each stream costs the gateway, of which part is on the TTFT path.
        var gatewayStreams = scenarios.Count(x => x.Baseline >= 0) * n * reps;
        var gatewayCpu = (CpuAccount.ProcessMs(gatewayPid) - gatewayCpuBefore) * 1000 / gatewayStreams;
        Console.WriteLine();
        Console.WriteLine($"Gateway CPU: {Stats.F(gatewayCpu, "0")} µs per stream through it (all three gateway rows, user + system, /proc).");
        Console.WriteLine($"Other processes used {Stats.F(cpu.OtherPercent(), "0")} % of a core during these rows.");
        return failed.Sum() == 0 ? 0 : 1;
    }

    /// <summary>Runs <paramref name="rounds"/> rounds of one stream per scenario; records each completed stream's TTFT; returns failures per scenario.</summary>
    private static async Task<int[]> RoundsAsync(HttpClient client, Scenario[] scenarios, int rounds, List<double>[]? samples, CancellationToken cancellationToken)
    {
        var failed = new int[scenarios.Length];
        for (var round = 0; round < rounds; round++)
        {
            for (var k = 0; k < scenarios.Length; k++)
            {
                var s = (round + k) % scenarios.Length;
                var observation = await StreamProbe.RunAsync(client, scenarios[s].Request, null, cancellationToken).ConfigureAwait(false);
                if (!observation.Completed)
                {
                    failed[s]++;
                    if (failed[s] == 1)
                    {
                        Console.Error.WriteLine($"{scenarios[s].Name}: status {observation.Status}, {observation.Events.Count} events, {observation.Error}");
                    }

                    continue;
                }

                samples?[s].Add(observation.FirstEventMs);
            }
        }

        return failed;
    }
}
