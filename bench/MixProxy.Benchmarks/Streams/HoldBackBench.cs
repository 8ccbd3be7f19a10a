extern alias Simulator;

using System.Diagnostics;
using System.Globalization;
using Simulator::MixProxy.Simulator;

namespace MixProxy.Benchmarks.Streams;

/// <summary>
/// Are chunks held back? A paced upstream (the simulator, started in this process with a scripted reply) notes the
/// Stopwatch time just before it writes each chunk; the client notes when the chunk's marker (<c>tok000</c>,
/// <c>tok001</c>…) arrives. Same process, same clock, so the lateness of every chunk is exact, and a chunk "arrived
/// separately" when the client had it before the upstream sent the next one. Direct rows give the floor.
/// </summary>
internal static class HoldBackBench
{
    private sealed record Scenario(string Name, StreamRequest Request, bool GeminiUpstream);

    public static async Task<int> RunAsync(StreamBenchArguments args, CancellationToken cancellationToken)
    {
        var gw = args.Uri("gw");
        var port = args.Int("upstream-port", 18092);
        var chunks = args.Int("chunks", 10);
        var pace = args.Int("pace-ms", 50);
        var reps = args.Int("reps", 5);

        var state = new SimulatorState();
        var upstream = SimulatorApp.Build($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", new SimulatorOptions(), state);
        await upstream.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var direct = new Uri(SimulatorApp.Address(upstream));
            Scenario[] scenarios =
            [
                new("direct: OpenAI chat", StreamRequest.Chat(direct, "gpt-paced", chunks, pace), false),
                new("MixProxy: OpenAI passthrough", StreamRequest.Chat(gw, "gpt-paced", chunks, pace), false),
                new("direct: Gemini streamGenerateContent", StreamRequest.Gemini(direct, "gemini-paced", chunks, pace), true),
                new("MixProxy: Gemini passthrough", StreamRequest.Gemini(gw, "gemini-paced", chunks, pace), true),
                new("MixProxy: OpenAI -> Gemini translated", StreamRequest.Chat(gw, "gemini-paced", chunks, pace), true),
            ];

            var cpu = new CpuAccount(args.Int("gw-pid", 0), args.Int("sim-pid", 0));
        using var client = StreamProbe.CreateClient(16);

            // Warm-up at a 1 ms pace, so the measured streams do not pay for JIT.
            for (var i = 0; i < 20; i++)
            {
                foreach (var s in scenarios)
                {
                    await RunOneAsync(client, state, s, chunks, 1, cancellationToken).ConfigureAwait(false);
                }
            }

            Console.WriteLine($"| stream ({chunks} chunks {pace} ms apart, ×{reps}) | lateness p50 ms | lateness p99 ms | lateness max ms | chunks at the client before the upstream sent the next | client reads carrying a chunk |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
            var failures = 0;
            foreach (var s in scenarios)
            {
                var lateness = new List<double>();
                var separate = 0;
                var reads = 0;
                for (var rep = 0; rep < reps; rep++)
                {
                    var (observation, sends) = await RunOneAsync(client, state, s, chunks, pace, cancellationToken).ConfigureAwait(false);
                    reads += observation.Events.Where(e => e.Marker >= 0).Select(e => e.Read).Distinct().Count();
                    for (var i = 0; i < chunks; i++)
                    {
                        var arrival = observation.Events.FirstOrDefault(e => e.Marker == i);
                        if (arrival.Timestamp == 0)
                        {
                            continue; // missing: shows as fewer chunks counted below
                        }

                        lateness.Add(StreamObservation.Ms(sends[i], arrival.Timestamp));
                        var next = i + 1 < chunks ? sends[i + 1] : sends[i] + (pace * Stopwatch.Frequency / 1000);
                        if (arrival.Timestamp < next)
                        {
                            separate++;
                        }
                    }
                }

                failures += (chunks * reps) - separate;
                Console.WriteLine($"| {s.Name} | {Stats.F(Stats.Percentile(lateness, 0.5), "0.000")} | {Stats.F(Stats.Percentile(lateness, 0.99), "0.000")} | {Stats.F(lateness.DefaultIfEmpty(double.NaN).Max(), "0.000")} | {separate} of {chunks * reps} | {reads} of {chunks * reps} |");
            }

            Console.WriteLine();
            Console.WriteLine($"Other processes used {Stats.F(cpu.OtherPercent(), "0")} % of a core during these rows.");
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            await upstream.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await upstream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<(StreamObservation Observation, long[] Sends)> RunOneAsync(HttpClient client, SimulatorState state, Scenario scenario, int chunks, int pace, CancellationToken cancellationToken)
    {
        var events = scenario.GeminiUpstream ? GeminiEvents(chunks) : ChatEvents(chunks);
        var sends = new long[events.Count];

        // The gate runs right before the simulator writes event i: pace there, then note the send time.
        async Task Gate(int i)
        {
            if (i > 0 && i < chunks)
            {
                await Task.Delay(pace, cancellationToken).ConfigureAwait(false);
            }

            sends[i] = Stopwatch.GetTimestamp();
        }

        state.Clear();
        state.Enqueue(new ScriptedReply(Events: events, EventDelimiter: scenario.GeminiUpstream ? "\r\n\r\n" : "\n\n") { BeforeEvent = Gate });
        var observation = await StreamProbe.RunAsync(client, scenario.Request, null, cancellationToken).ConfigureAwait(false);
        if (!observation.Completed)
        {
            Console.Error.WriteLine($"{scenario.Name}: status {observation.Status}, {observation.Events.Count} events, {observation.Error}");
        }

        return (observation, sends);
    }

    /// <summary>Chat chunks as OpenAI streams them, one marked word each, then the finish chunk and [DONE] right after the last.</summary>
    private static List<string> ChatEvents(int chunks)
    {
        var events = new List<string>(chunks + 2);
        for (var i = 0; i < chunks; i++)
        {
            var role = i == 0 ? "\"role\":\"assistant\"," : string.Empty;
            events.Add($$$"""{"id":"chatcmpl-paced","object":"chat.completion.chunk","created":1700000000,"model":"gpt-paced","choices":[{"index":0,"delta":{{{{role}}}"content":"tok{{{i.ToString("000", CultureInfo.InvariantCulture)}}} "},"finish_reason":null}]}""");
        }

        events.Add("""{"id":"chatcmpl-paced","object":"chat.completion.chunk","created":1700000000,"model":"gpt-paced","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""");
        events.Add($$$"""{"id":"chatcmpl-paced","object":"chat.completion.chunk","created":1700000000,"model":"gpt-paced","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":{{{chunks}}},"total_tokens":{{{20 + chunks}}}}}""");
        events.Add("[DONE]");
        return events;
    }

    /// <summary>Gemini SSE events, one marked word each; the last carries the finish reason and the usage, as Google sends it.</summary>
    private static List<string> GeminiEvents(int chunks)
    {
        var events = new List<string>(chunks);
        for (var i = 0; i < chunks; i++)
        {
            var finish = i == chunks - 1 ? ",\"finishReason\":\"STOP\"" : string.Empty;
            events.Add($$$"""{"candidates":[{"content":{"parts":[{"text":"tok{{{i.ToString("000", CultureInfo.InvariantCulture)}}} "}],"role":"model"},"index":0{{{finish}}}}],"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":{{{i + 1}}},"totalTokenCount":{{{21 + i}}}},"modelVersion":"gemini-paced","responseId":"paced"}""");
        }

        return events;
    }
}
