using System.Net.ServerSentEvents;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Sse;

/// <summary>
/// A read-only stream that pulls SSE events from the upstream body, translates each one as it arrives and
/// hands out the translated bytes. Pull-based on purpose: no background task, no buffering of the whole
/// body, and back-pressure comes for free because nothing is read upstream until the client side asks.
/// </summary>
public sealed class TranslatingSseStream : ForwardOnlyReadStream
{
    private readonly Stream _upstream;
    private readonly IStreamEventTranslator _translator;
    private readonly ExchangeOutcome _outcome;
    private readonly IAsyncEnumerator<SseItem<byte[]>> _events;
    private readonly PooledBufferWriter _pending = new();
    private readonly CancellationTokenSource _cancellation;
    private int _pendingOffset;
    private long _ownBytes;
    private bool _completed;
    private bool _handedOut;

    /// <summary>
    /// The translator's time and output, and whether (and why) the stream faulted, go to <paramref name="outcome"/> as
    /// it runs. An upstream that breaks off before the reader got a byte makes the read throw; after, the stream ends
    /// with the translator's error event for <see cref="StreamFault.Upstream"/>. So does an upstream whose stream ends
    /// before its answer is complete (<see cref="IStreamEventTranslator.AnswerComplete"/>), with a
    /// <see cref="TruncatedStreamException"/>.
    /// </summary>
    public TranslatingSseStream(Stream upstream, IStreamEventTranslator translator, ExchangeOutcome outcome, CancellationToken cancellationToken = default)
    {
        _upstream = upstream ?? throw new ArgumentNullException(nameof(upstream));
        _translator = translator ?? throw new ArgumentNullException(nameof(translator));
        _outcome = outcome ?? throw new ArgumentNullException(nameof(outcome));
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _events = SseParser.Create(upstream, static (_, data) => data.ToArray()).EnumerateAsync(_cancellation.Token).GetAsyncEnumerator(_cancellation.Token);
    }

    /// <summary>
    /// This stream's output is what the client reads while another translating stream feeds it (a bridge, such as the
    /// Responses API's over Chat Completions): the outcome's translated bytes are this stream's own, not the sum of both
    /// stages, whose inner output never leaves the gateway.
    /// </summary>
    public bool Outermost { get; init; }

    /// <summary>Whether an output buffer is rented right now (none should be while waiting for the upstream).</summary>
    internal bool HoldsOutputBuffer => _pending.HoldsBuffer;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var available = _pending.WrittenCount - _pendingOffset;
            if (available > 0)
            {
                var count = Math.Min(available, buffer.Length);
                _pending.WrittenSpan.Slice(_pendingOffset, count).CopyTo(buffer.Span);
                _pendingOffset += count;
                _handedOut |= count > 0;
                return count;
            }

            // Drained: the buffer goes back to the pool before waiting for the next event, which may be seconds away.
            _pending.Release();
            _pendingOffset = 0;
            if (_completed)
            {
                return 0;
            }

            // Keep reading until one upstream event produced output (or the upstream ended), so a
            // read never returns 0 bytes before the true end of the stream. The caller's token (YARP's
            // activity timeout, the client going away) cancels the upstream read too.
            var more = false;
            Exception? upstreamFault = null;
            try
            {
                using (cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _cancellation))
                {
                    more = await _events.MoveNextAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException && _handedOut && !_cancellation.IsCancellationRequested)
            {
                // NOTE: the upstream broke off after the client got part of the answer. Nothing can be retried now
                // (the client would get that part twice), so the stream ends with the protocol's error event instead
                // of a cut. Before the first byte the exception goes on up, so the host can still retry or answer with
                // an error status; once cancelled, it is the client leaving or a timeout, not the upstream.
                upstreamFault = e;
            }

            if (!more && upstreamFault is null && !_translator.AnswerComplete)
            {
                // NOTE: the upstream ended cleanly, but before its answer did (no finish reason): a cut, not a finish.
                // It is treated as a break: while the client has nothing the read fails (an error status, or another
                // attempt), after it the client gets the protocol's error event. Either way the answer is incomplete.
                var cut = new TruncatedStreamException();
                _outcome.Faulted = true;
                if (!_handedOut)
                {
                    _completed = true;
                    throw cut;
                }

                upstreamFault = cut;
            }

            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var before = _pending.WrittenCount;
            try
            {
                if (upstreamFault is not null)
                {
                    _outcome.UpstreamFault ??= upstreamFault;
                    _completed = true;
                    _translator.WriteFault(_pending, StreamFault.Upstream);
                }
                else if (more)
                {
                    _translator.TranslateEvent(_events.Current.Data, _pending);
                    _completed = _translator.IsEnded;
                }
                else
                {
                    _translator.Complete(_pending);
                    _completed = true;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A bug in the translator, not the upstream's doing. The client's headers are out: what the failed
                // call wrote is taken back whole (what the client already read stays), the protocol's error event ends
                // the stream instead of a cut, and the host logs the exception.
                _pending.Truncate(before);
                _outcome.TranslationFault ??= e;
                _translator.WriteFault(_pending, StreamFault.Translator);
                _completed = true;
            }

            _outcome.TranslationTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started;
            _ownBytes += _pending.WrittenCount;
            if (Outermost)
            {
                _outcome.TranslatedBytes = _ownBytes;
            }
            else
            {
                _outcome.TranslatedBytes += _pending.WrittenCount;
            }
            _outcome.Faulted = _translator.Faulted || _outcome.TranslationFault is not null || _outcome.UpstreamFault is not null;

            // A result the answer completed is stored before the client reads the event that completes it.
            await _outcome.KeepResultAsync().ConfigureAwait(false);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _events.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _upstream.Dispose();
            _cancellation.Dispose();
            _pending.Release();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _events.DisposeAsync().ConfigureAwait(false);
        await _upstream.DisposeAsync().ConfigureAwait(false);
        _cancellation.Dispose();
        _pending.Release();
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
