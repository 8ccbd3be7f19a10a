using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace MixProxy.Benchmarks;

/// <summary>
/// A closed-loop latency probe: one connection, one request in flight, started on a fixed schedule, each timed with
/// <see cref="Stopwatch"/> from just before sending to the last byte of the body. hey rounds to 0.1 ms and adds its own
/// jitter; this reports microseconds. Bounded by a request count and a wall-clock limit, whichever comes first.
/// </summary>
/// <remarks>
/// latency --url URL --body FILE [--header "Name: value"]... [--rate 50] [--count 400] [--warmup 200] [--max-seconds 120]
/// Prints one line: <c>count=… errors=… p50_us=… p90_us=… p99_us=… max_us=… mean_us=…</c>.
/// </remarks>
internal static class LatencyClient
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? url = null;
        string? bodyPath = null;
        var headers = new List<(string Name, string Value)>();
        var rate = 50.0;
        var count = 400;
        var warmup = 200;
        var maxSeconds = 120.0;
        for (var i = 1; i < args.Length - 1; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--url": url = value; break;
                case "--body": bodyPath = value; break;
                case "--header":
                    var colon = value.IndexOf(':', StringComparison.Ordinal);
                    headers.Add((value[..colon].Trim(), value[(colon + 1)..].Trim()));
                    break;
                case "--rate": rate = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--count": count = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--max-seconds": maxSeconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}");
                    return 2;
            }
        }

        if (url is null || bodyPath is null || rate <= 0 || count <= 0)
        {
            Console.Error.WriteLine("usage: latency --url URL --body FILE [--header 'Name: value']... [--rate 50] [--count 400] [--warmup 200] [--max-seconds 120]");
            return 2;
        }

        var body = await File.ReadAllBytesAsync(bodyPath).ConfigureAwait(false);

        // One pooled HTTP/1.1 connection, as a single client would hold: connection set-up is not what is measured.
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1, UseProxy = false, AutomaticDecompression = DecompressionMethods.None };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };

        var deadline = Stopwatch.GetTimestamp() + (long)(maxSeconds * Stopwatch.Frequency);
        var buffer = new byte[64 * 1024];

        // Warm-up at full speed: the probe's own JIT tiers and the connection settle before anything is recorded.
        for (var i = 0; i < warmup && Stopwatch.GetTimestamp() < deadline; i++)
        {
            await SendAsync(client, url, body, headers, buffer).ConfigureAwait(false);
        }

        var samples = new List<long>(count);
        var errors = 0;
        var interval = Stopwatch.Frequency / rate;
        var next = (double)Stopwatch.GetTimestamp();
        for (var i = 0; i < count && Stopwatch.GetTimestamp() < deadline; i++)
        {
            // Fixed schedule: wait for the slot, sleeping coarsely and spinning the last stretch so the start is on time.
            next += interval;
            while (true)
            {
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), (long)next);
                if (left <= TimeSpan.Zero)
                {
                    break;
                }

                if (left > TimeSpan.FromMilliseconds(2))
                {
                    Thread.Sleep(left - TimeSpan.FromMilliseconds(1));
                }
                else
                {
                    Thread.SpinWait(50);
                }
            }

            var started = Stopwatch.GetTimestamp();
            var ok = await SendAsync(client, url, body, headers, buffer).ConfigureAwait(false);
            var elapsed = Stopwatch.GetTimestamp() - started;
            if (ok)
            {
                samples.Add(elapsed);
            }
            else
            {
                errors++;
            }

            if (Stopwatch.GetTimestamp() > next + interval)
            {
                next = Stopwatch.GetTimestamp(); // a slow response does not trigger a burst of catch-up requests
            }
        }

        samples.Sort();
        double Micros(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
        double Quantile(double q) => samples.Count == 0 ? double.NaN : Micros(samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)]);
        var mean = samples.Count == 0 ? double.NaN : samples.Average(Micros);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"count={samples.Count} errors={errors} p50_us={Quantile(0.5):F0} p90_us={Quantile(0.9):F0} p99_us={Quantile(0.99):F0} max_us={Quantile(1):F0} mean_us={mean:F0}"));
        return errors == 0 && samples.Count == count ? 0 : 1;
    }

    private static async Task<bool> SendAsync(HttpClient client, string url, byte[] body, List<(string Name, string Value)> headers, byte[] buffer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            using var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            while (await stream.ReadAsync(buffer).ConfigureAwait(false) > 0)
            {
            }

            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            return false;
        }
    }
}
