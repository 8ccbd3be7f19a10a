using System.Diagnostics;
using System.Net;

namespace MixProxy.Benchmarks.Streams;

/// <summary>One SSE event as the client saw it: when the read that completed it returned, and which read that was.</summary>
internal readonly record struct EventArrival(long Timestamp, int Read, int Marker, bool Done);

/// <summary>What one stream looked like from the client: status, every event with its arrival time, how it ended.</summary>
internal sealed class StreamObservation
{
    public long Started { get; init; }

    public int Status { get; set; }

    public List<EventArrival> Events { get; } = new(16);

    /// <summary>Read to the end of the body with a 200 and at least one event.</summary>
    public bool Completed { get; set; }

    public string? Error { get; set; }

    /// <summary>Time from sending the request to the first complete event (time to first token), in ms.</summary>
    public double FirstEventMs => Events.Count == 0 ? double.NaN : Ms(Started, Events[0].Timestamp);

    /// <summary>The longest wait between two consecutive events, in ms (0 with fewer than two events).</summary>
    public double MaxGapMs
    {
        get
        {
            var max = 0.0;
            for (var i = 1; i < Events.Count; i++)
            {
                max = Math.Max(max, Ms(Events[i - 1].Timestamp, Events[i].Timestamp));
            }

            return max;
        }
    }

    public static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}

/// <summary>
/// Sends one streaming request and reads the SSE body incrementally, time-stamping each event when the read that
/// completed it returns (Stopwatch, sub-µs on Linux). Events are found by their blank-line terminator, so the
/// count and timing are the client's true view: two upstream chunks that arrive in one read show up with the same
/// read number and timestamp.
/// </summary>
internal static class StreamProbe
{
    /// <summary>One handler for every stream: HTTP/1.1 needs a connection per open stream, so the per-server cap must exceed the run's concurrency.</summary>
    public static HttpClient CreateClient(int maxConnections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = maxConnections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public static async Task<StreamObservation> RunAsync(HttpClient client, StreamRequest request, Action<StreamObservation>? onFirstEvent, CancellationToken cancellationToken)
    {
        using var message = request.ToMessage();
        var observation = new StreamObservation { Started = Stopwatch.GetTimestamp() };
        try
        {
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            observation.Status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                var framer = new SseFramer();
                var buffer = new byte[4096];
                var reads = 0;
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    var now = Stopwatch.GetTimestamp();
                    reads++;
                    var before = observation.Events.Count;
                    framer.Feed(buffer.AsSpan(0, read), (marker, done) => observation.Events.Add(new EventArrival(now, reads, marker, done)));
                    if (before == 0 && observation.Events.Count > 0)
                    {
                        onFirstEvent?.Invoke(observation);
                    }
                }
            }

            observation.Completed = observation.Status == 200 && observation.Events.Count > 0;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            observation.Error = e.GetType().Name + ": " + e.Message;
        }

        return observation;
    }
}
