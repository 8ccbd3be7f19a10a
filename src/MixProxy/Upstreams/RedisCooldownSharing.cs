using MixProxy.RateLimiting;
using MixProxy.Telemetry;
using StackExchange.Redis;

namespace MixProxy.Upstreams;

/// <summary>
/// Shares cooldowns between replicas through Redis: one hash holds every cooldown (one key, so it works on a Redis
/// Cluster too), and a channel announces each change, which every replica applies to its own map at once. The whole
/// hash is read again when the connection comes back and every few seconds, which heals any announcement missed.
/// Requests never wait for Redis: they read the local map. Without Redis configured it does nothing.
/// </summary>
internal sealed class RedisCooldownSharing(IServiceProvider services, RateLimitingOptions options, UpstreamHealth health, ILogger<RedisCooldownSharing> logger) : ICooldownSharing, IHostedService, IDisposable
{
    public static readonly RedisKey HashKey = LimiterKeys.Prefix + "upstreams:cooldowns";

    public static readonly RedisChannel Channel = RedisChannel.Literal(LimiterKeys.Prefix + "upstreams:cooldowns");

    private static readonly TimeSpan ResyncInterval = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stopping = new();
    private int _failing;
    private volatile bool _subscribed;
    private Task? _resyncLoop;
    private IConnectionMultiplexer? _redis;

    private IConnectionMultiplexer Redis => _redis ?? throw new InvalidOperationException("Cooldown sharing has not started.");

    public void Publish(string key, Cooldown? cooldown)
    {
        var value = cooldown?.Serialize();
        _ = PublishAsync(key, value);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            return; // one process: its own map is the whole truth
        }

        var redis = _redis = services.GetRequiredService<IConnectionMultiplexer>();
        health.Sharing = this;
        redis.ConnectionRestored += OnConnectionRestored;
        await SubscribeAsync().ConfigureAwait(false);
        _resyncLoop = ResyncLoopAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_redis is not { } redis)
        {
            return;
        }

        health.Sharing = null;
        redis.ConnectionRestored -= OnConnectionRestored;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_resyncLoop is not null)
        {
            await _resyncLoop.ConfigureAwait(false);
        }

        try
        {
            await redis.GetSubscriber().UnsubscribeAsync(Channel).ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // Going away anyway.
        }
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>Reads the whole hash into the local map; false when Redis did not answer.</summary>
    public async Task<bool> ResyncAsync()
    {
        var redis = Redis;
        if (!redis.IsConnected)
        {
            return false;
        }

        try
        {
            var entries = await redis.GetDatabase().HashGetAllAsync(HashKey).ConfigureAwait(false);
            var now = health.NowMs;
            var shared = new Dictionary<string, Cooldown>(StringComparer.Ordinal);
            List<RedisValue>? stale = null;
            foreach (var entry in entries)
            {
                if (Cooldown.Parse(entry.Value) is not { } cooldown)
                {
                    continue;
                }

                // Ended an hour ago: no strike of it counts any more, so the hash forgets it.
                if (now - cooldown.UntilMs > TimeSpan.FromHours(1).TotalMilliseconds)
                {
                    (stale ??= []).Add(entry.Name);
                    continue;
                }

                shared[entry.Name.ToString()] = cooldown;
            }

            health.ApplyAll(shared);
            if (stale is not null)
            {
                await redis.GetDatabase().HashDeleteAsync(HashKey, [.. stale]).ConfigureAwait(false);
            }

            Succeeded();
            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Failed(e.Message);
            return false;
        }
    }

    /// <summary>Listens for other replicas' changes; a replica started while Redis is away tries again with each resync.</summary>
    private async Task SubscribeAsync()
    {
        try
        {
            await Redis.GetSubscriber().SubscribeAsync(Channel, (_, message) => OnAnnounced(message)).ConfigureAwait(false);
            _subscribed = true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Failed(e.Message);
        }
    }

    private async Task PublishAsync(string key, string? value)
    {
        try
        {
            var database = Redis.GetDatabase();
            if (value is null)
            {
                await database.HashDeleteAsync(HashKey, key).ConfigureAwait(false);
            }
            else
            {
                await database.HashSetAsync(HashKey, key, value).ConfigureAwait(false);
            }

            await database.PublishAsync(Channel, key + "\n" + value).ConfigureAwait(false);
            Succeeded();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Failed(e.Message);
        }
    }

    private void OnAnnounced(RedisValue message)
    {
        var text = message.ToString();
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        if (newline <= 0)
        {
            return;
        }

        var value = text[(newline + 1)..];
        health.Apply(text[..newline], value.Length == 0 ? null : Cooldown.Parse(value));
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => _ = ResyncAsync();

    private async Task ResyncLoopAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                if (!_subscribed)
                {
                    await SubscribeAsync().ConfigureAwait(false);
                }

                await ResyncAsync().ConfigureAwait(false);
                await Task.Delay(ResyncInterval, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Succeeded() => Interlocked.Exchange(ref _failing, 0);

    private void Failed(string reason)
    {
        // Once per outage, not once per cooldown.
        if (Interlocked.Exchange(ref _failing, 1) == 0)
        {
            GatewayLog.CooldownSharingFailed(logger, reason);
        }
    }
}
