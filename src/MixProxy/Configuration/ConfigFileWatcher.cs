using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using MixProxy.Telemetry;

namespace MixProxy.Configuration;

/// <summary>
/// Applies edits to the config file while the gateway runs. A broken file (bad JSON, unknown cluster,
/// invalid value, deleted) is logged with its problems and ignored: the last good generation keeps serving.
/// </summary>
internal sealed class ConfigFileWatcher(
    GatewayConfigStore store,
    GatewayConfigLoader loader,
    IOptions<ConfigFileOptions> options,
    TimeProvider time,
    Telemetry.GatewayMetrics metrics,
    ILogger<ConfigFileWatcher> logger) : BackgroundService
{
    private byte[]? _lastSeenHash;
    private bool _missingReported;

    /// <summary>Call once with the bytes the first generation was built from, so an untouched file is not re-applied.</summary>
    public void Seed(byte[] initialContent) => _lastSeenHash = SHA256.HashData(initialContent);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await CheckOnceAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    internal async Task CheckOnceAsync(CancellationToken cancellationToken)
    {
        var path = options.Value.Path;
        byte[] content;
        try
        {
            content = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!_missingReported)
            {
                metrics.ConfigReloads.Add(1, new KeyValuePair<string, object?>("mixproxy.config.outcome", "rejected"));
                GatewayLog.ConfigUnreadable(logger, path, e.Message, store.Current.Generation);
                _missingReported = true;
            }

            return;
        }

        _missingReported = false;
        var hash = SHA256.HashData(content);
        if (_lastSeenHash is not null && hash.AsSpan().SequenceEqual(_lastSeenHash))
        {
            return;
        }

        // An editor may be half-way through writing: a failed parse is retried only when the bytes change again.
        _lastSeenHash = hash;
        try
        {
            var snapshot = await loader.ParseAsync(content, store.Current.Generation + 1).ConfigureAwait(false);
            store.Apply(snapshot);
            metrics.ConfigReloads.Add(1, new KeyValuePair<string, object?>("mixproxy.config.outcome", "applied"));
            GatewayLog.ConfigApplied(logger, path, snapshot.Generation);
        }
        catch (GatewayConfigException e)
        {
            metrics.ConfigReloads.Add(1, new KeyValuePair<string, object?>("mixproxy.config.outcome", "rejected"));
            GatewayLog.ConfigRejected(logger, path, store.Current.Generation, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever a file contains, it must never stop the watcher (or, through it, the host).
            metrics.ConfigReloads.Add(1, new KeyValuePair<string, object?>("mixproxy.config.outcome", "rejected"));
            GatewayLog.ConfigRejected(logger, path, store.Current.Generation, "Unexpected error while validating: " + e);
        }
    }
}
