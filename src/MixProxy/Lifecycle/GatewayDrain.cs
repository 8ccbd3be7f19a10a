namespace MixProxy.Lifecycle;

/// <summary>
/// The gateway's shutdown: from the moment the host is asked to stop (SIGTERM), readiness fails and new requests are
/// refused (<see cref="DrainRefusal"/>); Kestrel stops accepting connections and waits for the requests in flight;
/// when <see cref="DrainOptions.DrainTimeout"/> runs out, <see cref="Deadline"/> fires and every upstream stream still
/// open is ended (<see cref="DrainDeadlineStream"/>), so its client reads an error event in its protocol instead of a
/// cut connection. The host's own shutdown timeout is set a little longer (<see cref="Grace"/>) so those last events
/// are written before Kestrel aborts what is left.
/// </summary>
internal sealed class GatewayDrain(IHostApplicationLifetime lifetime, DrainOptions options, TimeProvider time, ILogger<GatewayDrain> logger) : IHostedService, IDisposable
{
    /// <summary>What the host waits beyond the drain time: enough to write and flush the streams' final error events.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _deadline = new();
    private CancellationTokenRegistration _stopping;
    private ITimer? _timer;
    private int _draining;

    /// <summary>True from the moment the host began to stop.</summary>
    public bool Draining => Volatile.Read(ref _draining) == 1;

    /// <summary>Cancelled when the drain time has run out.</summary>
    public CancellationToken Deadline => _deadline.Token;

    public TimeSpan DrainTimeout => options.DrainTimeout;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(static state => ((GatewayDrain)state!).BeginDraining(), this);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Starts draining (idempotent); the host calls it on SIGTERM through <see cref="IHostApplicationLifetime.ApplicationStopping"/>.</summary>
    public void BeginDraining()
    {
        if (Interlocked.Exchange(ref _draining, 1) == 1)
        {
            return;
        }

        DrainLog.Draining(logger, options.DrainTimeout.TotalSeconds);
        _timer = time.CreateTimer(static state => ((GatewayDrain)state!).Expire(), this, options.DrainTimeout, Timeout.InfiniteTimeSpan);
    }

    private void Expire()
    {
        DrainLog.DrainTimeRanOut(logger, options.DrainTimeout.TotalSeconds);
        try
        {
            _deadline.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The host finished before the timer fired: nothing is left to end.
        }
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _timer?.Dispose();
        _deadline.Dispose();
    }
}
