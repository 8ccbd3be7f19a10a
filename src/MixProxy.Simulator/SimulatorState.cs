using System.Collections.Concurrent;

namespace MixProxy.Simulator;

/// <summary>A request as the simulator received it, for tests that check what the gateway sent upstream.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A reply a test wants the next request to get, verbatim: a JSON body, or SSE <c>data:</c> payloads
/// sent one by one with <see cref="EventInterval"/> between them.
/// </summary>
public sealed record ScriptedReply(int Status = 200, string? Body = null, IReadOnlyList<string>? Events = null, TimeSpan? EventInterval = null, string EventDelimiter = "\r\n\r\n")
{
    /// <summary>
    /// Awaited before event N is sent (N from 0), and before the break of <see cref="AbortAfterEvents"/> (N then the
    /// number of events sent): lets a test hold the upstream until it has seen what came before.
    /// </summary>
    public Func<int, Task>? BeforeEvent { get; init; }

    /// <summary>
    /// Breaks the connection off after this many events (all of them, if there are fewer) instead of ending the
    /// response: the headers and those events are out, the rest never comes, as when an upstream process dies. The
    /// break drops whatever has not reached the socket yet, so a test that needs the events to arrive holds it with
    /// <see cref="BeforeEvent"/> until it has seen them.
    /// </summary>
    public int? AbortAfterEvents { get; init; }

    /// <summary>Response headers to send with it (a <c>Retry-After</c>, say).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}

/// <summary>Recorded traffic and scripted replies; one per simulator instance.</summary>
public sealed class SimulatorState
{
    private readonly ConcurrentQueue<ScriptedReply> _script = new();
    private readonly ConcurrentQueue<RecordedRequest> _received = new();

    private int _aborted;

    public IReadOnlyCollection<RecordedRequest> Received => _received;

    /// <summary>Responses the simulator stopped because the caller went away (the gateway cancelled its upstream call).</summary>
    public int Aborted => Volatile.Read(ref _aborted);

    internal void RecordAbort() => Interlocked.Increment(ref _aborted);

    public void Enqueue(ScriptedReply reply) => _script.Enqueue(reply);

    public void Clear()
    {
        _script.Clear();
        _received.Clear();
    }

    internal bool TryDequeue(out ScriptedReply reply) => _script.TryDequeue(out reply!);

    internal void Record(RecordedRequest request) => _received.Enqueue(request);
}
