using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace MixProxy.Simulator;

/// <summary>A request as the simulator received it, for tests that check what the gateway sent upstream.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A reply a test wants the next request to get, verbatim: a JSON body, or SSE <c>data:</c> payloads
/// sent one by one with <see cref="EventInterval"/> between them. On the Responses and Anthropic Messages endpoints a
/// payload that is a JSON object with a <c>type</c> also gets the <c>event:</c> line naming it, as those streams are framed.
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

/// <summary>A response the Responses endpoint kept (<c>store</c>): its JSON, and the conversation items up to and including its output.</summary>
internal sealed record StoredResponse(string Json, string Conversation);

/// <summary>Recorded traffic, scripted replies, stored Responses API responses and issued thought signatures; one per simulator instance.</summary>
public sealed class SimulatorState
{
    private readonly ConcurrentQueue<ScriptedReply> _script = new();
    private readonly ConcurrentQueue<RecordedRequest> _received = new();
    private readonly ConcurrentQueue<string> _issuedSignatures = new();

    // Kept for the simulator's lifetime, never evicted: a load run that should not grow it sends store:false.
    private readonly ConcurrentDictionary<string, StoredResponse> _responses = new(StringComparer.Ordinal);

    // Prompt prefixes the Anthropic upstream has cached (digests), kept for the simulator's lifetime.
    private readonly ConcurrentDictionary<string, byte> _cachedPrompts = new(StringComparer.Ordinal);

    private int _aborted;

    public IReadOnlyCollection<RecordedRequest> Received => _received;

    /// <summary>The thought signatures the simulated Gemini 3 put on its function calls, in the order it issued them.</summary>
    public IReadOnlyCollection<string> IssuedThoughtSignatures => _issuedSignatures;

    /// <summary>Responses the simulator stopped because the caller went away (the gateway cancelled its upstream call).</summary>
    public int Aborted => Volatile.Read(ref _aborted);

    /// <summary>The ids of the Responses API responses kept so far (what <c>previous_response_id</c> can name).</summary>
    public IReadOnlyCollection<string> StoredResponseIds => _responses.Keys.ToArray();

    internal void RecordAbort() => Interlocked.Increment(ref _aborted);

    public void Enqueue(ScriptedReply reply) => _script.Enqueue(reply);

    public void Clear()
    {
        _script.Clear();
        _received.Clear();
        _issuedSignatures.Clear();
        _responses.Clear();
        _cachedPrompts.Clear();
    }

    internal bool TryDequeue(out ScriptedReply reply) => _script.TryDequeue(out reply!);

    internal void Record(RecordedRequest request) => _received.Enqueue(request);

    internal void RecordIssuedSignature(string signature) => _issuedSignatures.Enqueue(signature);

    internal void Store(string id, StoredResponse response) => _responses[id] = response;

    /// <summary>Caches a prompt prefix: true the first time (a cache write), false when it was cached already (a read).</summary>
    internal bool RememberCachedPrompt(string digest) => _cachedPrompts.TryAdd(digest, 0);

    internal bool TryGetStored(string id, [MaybeNullWhen(false)] out StoredResponse response) => _responses.TryGetValue(id, out response);
}
