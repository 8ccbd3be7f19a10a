using System.Diagnostics;
using System.Globalization;

namespace MixProxy.Benchmarks.Streams;

/// <summary>
/// Many slow streams open at once (default 1,000 × 64 chunks, 100 ms apart): does every stream keep flowing (no
/// gap at the client over 10 × the pace), does every one complete, and what does an open stream cost the gateway in
/// memory. Memory is sampled while all streams are open and compared with the same process after a warm-up with
/// none open; the simulator is sampled too so its share is visible and not counted.
/// Prints one Markdown row (and the header with <c>--header 1</c>).
/// </summary>
internal static class SlowStreamsBench
{
    public static async Task<int> RunAsync(StreamBenchArguments args, CancellationToken cancellationToken)
    {
        var target = args.Uri("target");
        var api = args.String("api", "chat");
        var model = args.String("model");
        var name = args.String("name", model);
        var streams = args.Int("streams", 1000);
        var chunks = args.Int("chunks", 64);
        var pace = args.Int("pace-ms", 100);
        var rampMs = args.Int("ramp-ms", 2000);
        var warm = args.Int("warmup", 200);
        var gatewayPid = args.Int("gw-pid", 0);
        var simulatorPid = args.Int("sim-pid", 0);
        var metrics = args.String("metrics", "-") is var m && m != "-" ? new Uri(m) : null;
        var stallMs = 10.0 * pace;

        StreamRequest Request(int c, int p) => api == "gemini" ? StreamRequest.Gemini(target, model, c, p) : StreamRequest.Chat(target, model, c, p);

        if (args.Int("header", 0) == 1)
        {
            Console.WriteLine($"| streams × chunks, pace | completed | max gap ms | gaps > {Stats.F(stallMs, "0")} ms | TTFT p99 ms | gateway RSS KB/stream: peak / after full GC | gateway live GC heap KB/stream | simulator RSS KB/stream | run s | other processes' CPU % |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        }

        using var client = StreamProbe.CreateClient(streams + 64);
        using var scrape = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        // :: Warm-up: JIT, connection pools and thread pool get to their working size; then nothing is open.
        await Task.WhenAll(Enumerable.Range(0, warm).Select(_ => StreamProbe.RunAsync(client, Request(8, 20), null, cancellationToken))).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);
        var baseRss = ProcessMemory.RssKb(gatewayPid);
        var baseHeap = await ProcessMemory.LiveHeapKbAsync(gatewayPid, scrape, metrics, cancellationToken).ConfigureAwait(false);
        var baseRssAfterGc = ProcessMemory.RssKb(gatewayPid);
        var baseSim = ProcessMemory.RssKb(simulatorPid);

        // :: The run: streams start evenly over the ramp (a burst of 1,000 connects would overflow the listen backlog
        // and measure SYN retries instead of the gateway); memory is sampled while every stream is open.
        var open = 0;
        var cpu = new CpuAccount(gatewayPid, simulatorPid);
        var started = Stopwatch.GetTimestamp();
        var tasks = new List<Task<StreamObservation>>(streams);
        var request = Request(chunks, pace);
        async Task<StreamObservation> One()
        {
            try
            {
                return await StreamProbe.RunAsync(client, request, _ => Interlocked.Increment(ref open), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref open);
            }
        }

        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = SampleWhileAllOpenAsync(() => Volatile.Read(ref open), streams, gatewayPid, simulatorPid, scrape, metrics, sampling.Token);
        for (var i = 0; i < streams; i++)
        {
            tasks.Add(Task.Run(One, cancellationToken));
            var due = started + ((long)(i + 1) * rampMs * Stopwatch.Frequency / 1000 / streams);
            if (Stopwatch.GetTimestamp() < due && i % 10 == 9)
            {
                await Task.Delay(TimeSpan.FromTicks((due - Stopwatch.GetTimestamp()) * TimeSpan.TicksPerSecond / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
            }
        }

        var observations = await Task.WhenAll(tasks).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await sampling.CancelAsync().ConfigureAwait(false);
        var peak = await sampler.ConfigureAwait(false);

        // :: The row.
        var completed = observations.Count(o => o.Completed && o.Events.Count >= chunks);
        var other = cpu.OtherPercent();
        var gapSpans = observations.SelectMany(o => o.Events.Zip(o.Events.Skip(1), (a, b) => (From: a.Timestamp, To: b.Timestamp))).ToList();
        var gaps = gapSpans.Select(g => StreamObservation.Ms(g.From, g.To)).ToList();
        var stalls = gaps.Count(g => g > stallMs);
        if (stalls > 0)
        {
            // One window for all stalls means a pause of a whole process, not of single streams.
            var stalled = gapSpans.Where(g => StreamObservation.Ms(g.From, g.To) > stallMs).ToList();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {stalls} gaps over {stallMs} ms in {stalled.Select(g => g.From).Distinct().Count()} distinct starts, from {StreamObservation.Ms(started, stalled.Min(g => g.From)):0} to {StreamObservation.Ms(started, stalled.Max(g => g.To)):0} ms into the run; forced GC at {StreamObservation.Ms(started, peak.ForcedGcAt):0} ms"));
        }

        var ttft = observations.Where(o => o.Events.Count > 0).Select(o => o.FirstEventMs).ToList();
        foreach (var error in observations.Where(o => !o.Completed).Select(o => $"status {o.Status}: {o.Error}").GroupBy(e => e))
        {
            Console.Error.WriteLine($"{name}: {error.Count()} × {error.Key}");
        }

        string PerStream(double peakKb, double baseKb) => double.IsNaN(peakKb) || double.IsNaN(baseKb) ? "-" : Stats.F((peakKb - baseKb) / streams, "0.0");
        var memory = peak.Samples == 0
            ? "no sample with all open | - | -"
            : $"{PerStream(peak.GatewayRssKb, baseRss)} / {PerStream(peak.GatewayRssAfterGcKb, baseRssAfterGc)} | {PerStream(peak.GatewayHeapKb, baseHeap)} | {PerStream(peak.SimulatorRssKb, baseSim)}";
        Console.WriteLine($"| {name}: {streams} × {chunks}, {pace} ms | {completed} | {Stats.F(gaps.DefaultIfEmpty(0).Max(), "0")} | {stalls} | {Stats.F(Stats.Percentile(ttft, 0.99), "0.0")} | {memory} | {Stats.F(elapsed, "0.0")} | {Stats.F(other, "0")} |");
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: none open: gateway RSS {baseRss:0} KB ({baseRssAfterGc:0} after full GC), live heap {baseHeap:0} KB, simulator RSS {baseSim:0} KB; all open ({peak.Samples} samples): gateway RSS {peak.GatewayRssKb:0} KB ({peak.GatewayRssAfterGcKb:0} after full GC), live heap {peak.GatewayHeapKb:0} KB, simulator RSS {peak.SimulatorRssKb:0} KB"));
        return completed == streams && stalls == 0 ? 0 : 1;
    }

    private sealed record Peak(int Samples, double GatewayRssKb, double GatewayHeapKb, double GatewayRssAfterGcKb, double SimulatorRssKb)
    {
        public long ForcedGcAt { get; init; }
    }

    /// <summary>
    /// Samples RSS every 250 ms while all streams are open and keeps the highest (conservative per-stream cost: it
    /// includes garbage the GC has not collected yet). The live GC heap is read once, a second after all streams are
    /// open, after a forced full collection (its pause shows in the max gap column).
    /// </summary>
    private static async Task<Peak> SampleWhileAllOpenAsync(Func<int> open, int streams, int gatewayPid, int simulatorPid, HttpClient scrape, Uri? metrics, CancellationToken cancellationToken)
    {
        // Stops when the first stream closes after all were open, or when the run is over (cancelled).
        var peak = new Peak(0, double.NaN, double.NaN, double.NaN, double.NaN);
        try
        {
            while (true)
            {
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
                if (open() < streams)
                {
                    if (peak.Samples > 0)
                    {
                        return peak;
                    }

                    continue;
                }

                var rss = ProcessMemory.RssKb(gatewayPid);
                var forcedGcAt = peak.Samples == 4 ? Stopwatch.GetTimestamp() : peak.ForcedGcAt;
                var heap = peak.Samples == 4 ? await ProcessMemory.LiveHeapKbAsync(gatewayPid, scrape, metrics, cancellationToken).ConfigureAwait(false) : double.NaN;
                var rssAfterGc = double.IsNaN(heap) ? double.NaN : ProcessMemory.RssKb(gatewayPid);
                var sim = ProcessMemory.RssKb(simulatorPid);
                if (open() < streams)
                {
                    return peak; // a stream closed while sampling: this sample is not "all open"
                }

                peak = new Peak(peak.Samples + 1, Max(peak.GatewayRssKb, rss), Max(peak.GatewayHeapKb, heap), Max(peak.GatewayRssAfterGcKb, rssAfterGc), Max(peak.SimulatorRssKb, sim)) { ForcedGcAt = forcedGcAt };
            }
        }
        catch (OperationCanceledException)
        {
            return peak;
        }
    }

    private static double Max(double a, double b) => double.IsNaN(a) ? b : double.IsNaN(b) ? a : Math.Max(a, b);
}
