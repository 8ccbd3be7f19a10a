using System.Collections.Concurrent;

namespace MixProxy.RateLimiting;

/// <summary>
/// Limits held in this process: the embedded default when no Redis is configured, and the fallback while
/// Redis is unreachable. Exact for a single instance; with several replicas each enforces the limit alone.
/// </summary>
internal sealed class InMemoryLimiterStore(TimeProvider time) : ILimiterStore
{
    private readonly ConcurrentDictionary<string, Partition> _partitions = new(StringComparer.Ordinal);

    public Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var partition = _partitions.GetOrAdd(request.PartitionKey, _ => new Partition());
        var now = Now();
        lock (partition)
        {
            partition.Sweep(now);
            var states = new List<LimitState>(request.Charges.Count + 1);
            var newTats = new double[request.Charges.Count];
            LimitKind? denied = null;
            var retry = 0.0;
            for (var i = 0; i < request.Charges.Count; i++)
            {
                var charge = request.Charges[i];
                var stored = partition.Tats.TryGetValue(charge.Key, out var cell) ? Gcra.Rescale(cell.Tat, cell.Limit, now, charge.Limit) : now;
                var (allowed, newTat, wait) = Gcra.Try(stored, now, charge.Limit, charge.Cost);
                newTats[i] = newTat;
                if (!allowed)
                {
                    denied ??= charge.Kind;
                    retry = Math.Max(retry, wait);
                }

                states.Add(new LimitState(charge.Kind, charge.Limit, Gcra.Remaining(newTat, now, charge.Limit), TimeSpan.FromMilliseconds(Math.Max(0, newTat - now))));
            }

            if (request.ConcurrencyKey is not null)
            {
                var active = partition.Leases.Count;
                if (active >= request.ConcurrencyLimit)
                {
                    denied ??= LimitKind.Concurrency;
                    retry = Math.Max(retry, 1000);
                }

                states.Add(new LimitState(LimitKind.Concurrency, request.ConcurrencyLimit, Math.Max(0, request.ConcurrencyLimit - active - (denied is null ? 1 : 0)), TimeSpan.Zero));
            }

            if (denied is not null)
            {
                return Task.FromResult(new AdmissionResult(false, denied, TimeSpan.FromMilliseconds(Math.Ceiling(retry)), states, Degraded: false));
            }

            for (var i = 0; i < request.Charges.Count; i++)
            {
                partition.Tats[request.Charges[i].Key] = new Cell(newTats[i], request.Charges[i].Limit);
            }

            if (request.ConcurrencyKey is not null)
            {
                partition.Leases[request.RequestId] = now + LeaseLifetimeMs;
            }

            partition.TokensCharged += request.ReservedTokens;
            return Task.FromResult(new AdmissionResult(true, null, TimeSpan.Zero, states, Degraded: false));
        }
    }

    public Task SettleAsync(Settlement settlement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        if (!_partitions.TryGetValue(settlement.Admission.PartitionKey, out var partition))
        {
            return Task.CompletedTask;
        }

        var now = Now();
        lock (partition)
        {
            if (settlement.TokenDelta != 0)
            {
                foreach (var charge in settlement.Admission.Charges.Where(c => c.Kind == LimitKind.Tokens))
                {
                    var stored = partition.Tats.TryGetValue(charge.Key, out var cell) ? Gcra.Rescale(cell.Tat, cell.Limit, now, charge.Limit) : now;
                    partition.Tats[charge.Key] = new Cell(Gcra.Adjust(stored, now, charge.Limit, settlement.TokenDelta), charge.Limit);
                }

                partition.TokensCharged += settlement.TokenDelta;
            }

            partition.Leases.Remove(settlement.Admission.RequestId);
        }

        return Task.CompletedTask;
    }

    /// <summary>Tokens charged to a partition so far (reservations plus settlements): the recorded usage.</summary>
    public long TokensCharged(string partitionKey) => _partitions.TryGetValue(partitionKey, out var p) ? p.TokensCharged : 0;

    /// <summary>A concurrency slot is given back after this long even if its request never settled (a crash, say).</summary>
    internal const double LeaseLifetimeMs = 15 * 60 * 1000;

    private double Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A limit's TAT and the limit it was computed under (see <see cref="Gcra.Rescale"/>).</summary>
    private readonly record struct Cell(double Tat, long Limit);

    private sealed class Partition
    {
        public Dictionary<string, Cell> Tats { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, double> Leases { get; } = new(StringComparer.Ordinal);

        public long TokensCharged { get; set; }

        public void Sweep(double now)
        {
            foreach (var (key, _) in Tats.Where(t => t.Value.Tat <= now).ToList())
            {
                Tats.Remove(key);
            }

            foreach (var (id, expiry) in Leases.Where(l => l.Value <= now).ToList())
            {
                Leases.Remove(id);
            }
        }
    }
}
