using MixProxy.Auth;
using MixProxy.Routing;
using MixProxy.Translation.Protocols;

namespace MixProxy.RateLimiting;

/// <summary>An admitted request's claim on its limits, settled once when the response is over.</summary>
internal sealed class RateLimitTicket
{
    private int _settled;

    public required AdmissionRequest? Admission { get; init; }

    public required AdmissionResult Result { get; init; }

    public required ILimiterStore? Store { get; init; }

    public long ReservedTokens => Admission?.ReservedTokens ?? 0;

    /// <summary>True the first time only: a reservation is settled exactly once.</summary>
    public bool TryMarkSettled() => Interlocked.Exchange(ref _settled, 1) == 0;
}

/// <summary>
/// Per-key admission: requests and tokens per minute (for the key and per model) and concurrent requests.
/// Tokens are reserved before forwarding (input estimate plus the output cap) and corrected with the real
/// usage afterwards, so concurrent requests cannot overshoot the way charge-after-the-fact limiters do.
/// </summary>
internal sealed class GatewayRateLimiter(InMemoryLimiterStore local, RateLimitingOptions options, FailoverLimiterStore? shared = null)
{
    /// <summary>Bytes of request per token in the admission estimate: the usual ~4 characters per token, on the whole body.</summary>
    public const int BytesPerToken = 4;

    public bool UsesRedis => shared is not null;

    public bool Degraded => shared?.Degraded ?? false;

    /// <summary>The tokens reserved at admission for a request of <paramref name="bodyBytes"/> asking for at most <paramref name="maxOutputTokens"/>.</summary>
    public long Estimate(long bodyBytes, long? maxOutputTokens) => ((bodyBytes + BytesPerToken - 1) / BytesPerToken) + (maxOutputTokens ?? options.DefaultOutputReservation);

    public async Task<RateLimitTicket> AdmitAsync(ClientKey key, ModelRoute model, string requestedModel, long bodyBytes, long? maxOutputTokens, CancellationToken cancellationToken)
    {
        var limits = key.Limits;
        if (limits.IsEmpty)
        {
            return new RateLimitTicket { Admission = null, Result = AdmissionResult.Unlimited, Store = null };
        }

        var partition = LimiterKeys.Partition(key.Hash);
        var modelLimits = limits.PerModel.FirstOrDefault(m => Glob.IsMatch(m.ModelPattern, requestedModel));
        var tokenLimits = new[] { limits.Key.TokensPerMinute, modelLimits.Limits?.TokensPerMinute }.OfType<long>().ToList();

        // A request larger than a whole minute's budget could never pass; it reserves the whole budget instead
        // and is settled to its real size afterwards.
        var reserved = tokenLimits.Count == 0 ? 0 : Math.Min(Estimate(bodyBytes, maxOutputTokens), tokenLimits.Min());

        var charges = new List<RateCharge>(4);
        void Add(LimitSet? set, string? scope)
        {
            if (set?.RequestsPerMinute is { } rpm)
            {
                charges.Add(new RateCharge(LimiterKeys.Requests(partition, scope), LimitKind.Requests, rpm, 1));
            }

            if (set?.TokensPerMinute is { } tpm)
            {
                charges.Add(new RateCharge(LimiterKeys.Tokens(partition, scope), LimitKind.Tokens, tpm, reserved));
            }
        }

        Add(limits.Key, null);
        Add(modelLimits.Limits, modelLimits.ModelPattern);

        var admission = new AdmissionRequest(
            partition,
            charges,
            limits.Key.ConcurrentRequests is null ? null : LimiterKeys.Concurrency(partition, null),
            limits.Key.ConcurrentRequests ?? 0,
            Guid.NewGuid().ToString("N"),
            tokenLimits.Count == 0 ? null : LimiterKeys.TokenCounter(partition),
            reserved);

        var (result, store) = shared is null
            ? (await local.AdmitAsync(admission, cancellationToken).ConfigureAwait(false), local)
            : await shared.AdmitAsync(admission, cancellationToken).ConfigureAwait(false);
        return new RateLimitTicket { Admission = admission, Result = result, Store = result.Allowed ? store : null };
    }

    /// <summary>
    /// Settles an admitted request: the real usage when the upstream reported it; nothing charged when the upstream
    /// failed before answering; the reservation kept when a stream was cut before its usage arrived.
    /// </summary>
    public Task SettleAsync(RateLimitTicket ticket, TokenUsage? usage, bool upstreamFailed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (ticket.Admission is null || ticket.Store is null || !ticket.TryMarkSettled())
        {
            return Task.CompletedTask;
        }

        var delta = usage is { } u ? u.Total - ticket.ReservedTokens : upstreamFailed ? -ticket.ReservedTokens : 0;
        if (ticket.Admission.TokenCounterKey is null)
        {
            delta = 0;
        }

        var settlement = new Settlement(ticket.Admission, delta);
        return shared is null ? local.SettleAsync(settlement, cancellationToken) : shared.SettleAsync(ticket.Store, settlement, cancellationToken);
    }
}
