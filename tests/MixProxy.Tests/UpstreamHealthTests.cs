using MixProxy.Configuration;
using MixProxy.Upstreams;

namespace MixProxy.Tests;

/// <summary>How long destinations stay out of rotation, and what brings them back.</summary>
public sealed class UpstreamHealthTests
{
    private static readonly ResilienceSettings Settings = new()
    {
        QuotaCooldown = TimeSpan.FromSeconds(10),
        MaxQuotaCooldown = TimeSpan.FromSeconds(35),
        FailureThreshold = 2,
        FailureCooldown = TimeSpan.FromSeconds(5),
        MaxFailureCooldown = TimeSpan.FromSeconds(60),
    };

    private readonly ManualClock _clock = new();
    private readonly UpstreamHealth _health;

    public UpstreamHealthTests() => _health = new UpstreamHealth(_clock);

    [Fact]
    public void QuotaWithoutAWait_BacksOffDoublingToItsMaximum_AndASuccessForgetsTheRepeats()
    {
        var key = Destination("a");
        var waits = new List<double>();
        for (var i = 0; i < 4; i++)
        {
            var cooldown = _health.ReportQuota(key, Settings, retryAfter: null, status: 429);
            waits.Add((cooldown.UntilMs - _health.NowMs) / 1000.0);
            _clock.Advance(TimeSpan.FromMilliseconds(cooldown.UntilMs - _health.NowMs + 1));
        }

        Assert.Equal([10, 20, 35, 35], waits);
        Assert.True(_health.IsAvailable(key, _health.NowMs, out _));

        _health.ReportSuccess(key);
        var afterSuccess = _health.ReportQuota(key, Settings, retryAfter: null, status: 429);
        Assert.Equal(10_000, afterSuccess.UntilMs - _health.NowMs);
    }

    [Fact]
    public void QuotaWithAWait_LastsExactlyThatLong()
    {
        var key = Destination("a");
        _health.ReportQuota(key, Settings, TimeSpan.FromSeconds(2), 429);

        _clock.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(_health.IsAvailable(key, _health.NowMs, out var blocking));
        Assert.Equal(CooldownReason.Quota, blocking!.Reason);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(_health.IsAvailable(key, _health.NowMs, out _));
    }

    [Fact]
    public void QuotaGroup_OneMembersQuotaErrorTakesOutItsSiblings_NotOthers()
    {
        var eu = Destination("eu", "project-1");
        var us = Destination("us", "project-1");
        var other = Destination("other", "project-2");

        _health.ReportQuota(eu, Settings, TimeSpan.FromSeconds(30), 429);

        Assert.False(_health.IsAvailable(us, _health.NowMs, out _));
        Assert.True(_health.IsAvailable(other, _health.NowMs, out _));
    }

    [Fact]
    public void Failures_TakeADestinationOutOnlyAtTheThreshold_InARow()
    {
        var key = Destination("a");

        Assert.Null(_health.ReportFailure(key, Settings, 503));
        _health.ReportSuccess(key);
        Assert.Null(_health.ReportFailure(key, Settings, 503));
        var cooled = _health.ReportFailure(key, Settings, 0);

        Assert.NotNull(cooled);
        Assert.Equal(5_000, cooled.UntilMs - _health.NowMs);
        Assert.False(_health.IsAvailable(key, _health.NowMs, out _));
    }

    [Fact]
    public void RefusedKey_StaysOutUntilReset_OrUntilTheConfigGivesItAnotherKey()
    {
        var refused = Destination("a");
        _health.ReportCredentialRejected(refused, 401);
        _clock.Advance(TimeSpan.FromDays(2));

        Assert.False(_health.IsAvailable(refused, _health.NowMs, out var blocking));
        Assert.Equal(Cooldown.Indefinitely, blocking!.UntilMs);
        Assert.True(_health.IsAvailable(Destination("a", secret: "a-new-key"), _health.NowMs, out _));

        _health.Reset(refused);
        Assert.True(_health.IsAvailable(refused, _health.NowMs, out _));
    }

    [Fact]
    public void Cooldown_TravelsBetweenReplicasAsText_AndRefusesGarbage()
    {
        var cooldown = new Cooldown(CooldownReason.Failure, 1_700_000_000_123, 3, 503);

        Assert.Equal(cooldown, Cooldown.Parse(cooldown.Serialize()));
        Assert.Null(Cooldown.Parse("9|1|1|1"));
        Assert.Null(Cooldown.Parse("0|soon|1|429"));
        Assert.Null(Cooldown.Parse(null));
    }

    private static UpstreamDestination Destination(string id, string? group = null, string secret = "key") =>
        new("cluster", id, "http://127.0.0.1:9", new UpstreamCredential(null, secret), weight: 1, priority: 0, group);

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
