namespace MixProxy.Translation.Protocols;

/// <summary>
/// What the response side of one exchange learned, filled while the response passes and read by the host once it is
/// over: the usage to settle limits and record metrics with, whether the answer is incomplete (and why, when a stream
/// broke), the thought signatures the upstream issued, and the time translation took. One object, written by the exchange's translators and streams,
/// instead of callbacks set on the request.
/// </summary>
public sealed class ExchangeOutcome
{
    private ThoughtSignatureBag? _issuedSignatures;

    /// <summary>The usage the upstream reported; null until (unless) it did.</summary>
    public TokenUsage? Usage { get; set; }

    /// <summary>
    /// The response did not end as a complete answer: an error event, a cut stream, no finish. Such a response is
    /// not cached, and a translated one counts as a translation error.
    /// </summary>
    public bool Faulted { get; set; }

    /// <summary>Thought signatures the upstream issued with tool calls, by call id, for the host to remember.</summary>
    public ThoughtSignatureBag IssuedSignatures => _issuedSignatures ??= new ThoughtSignatureBag();

    public bool HasIssuedSignatures => _issuedSignatures is { Items.Count: > 0 };

    /// <summary>
    /// The result to keep for the client (it asked to store it), set once the answer is complete; the host stores it
    /// under the client's key when the response is over.
    /// </summary>
    public StoredResult? ResultToStore { get; set; }

    /// <summary>
    /// The host's way to store <see cref="ResultToStore"/> before the client reads the end of the answer: a client that
    /// continues a response as soon as it has it must find it stored. A stream awaits it before handing out the event
    /// that completes the answer; null where the host keeps results once the response is over.
    /// </summary>
    public Func<StoredResult, Task>? ResultKeeper { get; set; }

    /// <summary><see cref="ResultToStore"/> went to <see cref="ResultKeeper"/> already.</summary>
    public bool ResultKept { get; set; }

    /// <summary>Hands <see cref="ResultToStore"/> to <see cref="ResultKeeper"/>, once; done at once when there is nothing to keep.</summary>
    public Task KeepResultAsync()
    {
        if (ResultToStore is not { } result || ResultKept || ResultKeeper is not { } keeper)
        {
            return Task.CompletedTask;
        }

        ResultKept = true;
        return keeper(result);
    }

    /// <summary>
    /// Fields of the upstream's answer the client's protocol has no place for (the upstream's bookkeeping, another
    /// provider's extras), in the upstream's notation, each once: dropped and reported, as request fields are.
    /// </summary>
    public IReadOnlyList<string> DroppedAnswerFields => _droppedAnswerFields ?? (IReadOnlyList<string>)[];

    private List<string>? _droppedAnswerFields;

    /// <summary>Reports <paramref name="field"/> of the upstream's answer as dropped (once, however many chunks carried it).</summary>
    public void DropAnswerField(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (!(_droppedAnswerFields ??= []).Contains(field))
        {
            _droppedAnswerFields.Add(field);
        }
    }

    /// <summary>Time spent in a stream's event translator, in <see cref="System.Diagnostics.Stopwatch"/> ticks.</summary>
    public long TranslationTicks { get; set; }

    /// <summary>Bytes a stream's event translator produced.</summary>
    public long TranslatedBytes { get; set; }

    /// <summary>
    /// An exception a stream translator caught mid-stream (the client got an error event, since its headers were
    /// already out). It is a gateway bug, not the upstream's doing: the host logs it.
    /// </summary>
    public Exception? TranslationFault { get; set; }

    /// <summary>
    /// The upstream broke off mid-stream after the client got part of the answer: the read of its body failed, so the
    /// client got an error event instead of the rest (too late to retry: the part it has would be sent again). Not a
    /// gateway bug; <see cref="Faulted"/> is set with it. A break before the client got anything is thrown instead.
    /// </summary>
    public Exception? UpstreamFault { get; set; }
}
