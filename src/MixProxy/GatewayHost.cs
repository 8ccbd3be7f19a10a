using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using MixProxy.Auth;
using MixProxy.Caching;
using MixProxy.Configuration;
using MixProxy.Endpoints;
using MixProxy.Lifecycle;
using MixProxy.Proxy;
using MixProxy.RateLimiting;
using MixProxy.RequestLimits;
using MixProxy.Routing;
using MixProxy.State;
using MixProxy.Telemetry;
using MixProxy.Upstreams;
using MixProxy.Translation.Protocols;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using StackExchange.Redis;
using Yarp.ReverseProxy.Configuration;

namespace MixProxy;

/// <summary>How to start a gateway: which config file and where to listen. Tests start several on port 0.</summary>
public sealed class GatewayHostSettings
{
    public required string ConfigPath { get; init; }

    /// <summary>Listen addresses; null keeps ASP.NET's own settings (ASPNETCORE_URLS, --urls).</summary>
    public string? Urls { get; init; }

    /// <summary>How often the config file is looked at; null keeps <c>MixProxy:Config:PollInterval</c> (default 500 ms).</summary>
    public TimeSpan? ConfigPollInterval { get; init; }

    /// <summary>Where upstream credentials are looked up; the process environment unless a test says otherwise.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    public string[] Args { get; init; } = [];

    /// <summary>Extra logging set-up (tests capture logs to prove secrets stay out of them).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>The client APIs and exchanges served; <see cref="ProtocolRegistry.Default"/> unless a test says otherwise.</summary>
    public ProtocolRegistry Protocols { get; init; } = ProtocolRegistry.Default;
}

/// <summary>
/// Composes the gateway: settings, the config store and watcher, YARP with MixProxy's proxy pipeline (one middleware
/// per job) and transforms, the limiter and caches, telemetry, and the local endpoints. It never names a protocol:
/// the <see cref="ProtocolRegistry"/> does.
/// </summary>
public static class GatewayHost
{
    /// <summary>
    /// Builds the gateway and applies the config file's first generation. Throws
    /// <see cref="InvalidOperationException"/> naming every problem when the file is unusable.
    /// </summary>
    public static async Task<WebApplication> BuildAsync(GatewayHostSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // The content root is where mixproxy.dll and its shipped appsettings.json are, whatever the working directory:
        // otherwise `dotnet path/to/mixproxy.dll` would run without the shipped log levels.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = settings.Args, ApplicationName = typeof(GatewayHost).Assembly.GetName().Name, ContentRootPath = AppContext.BaseDirectory });
        if (settings.Urls is not null)
        {
            builder.WebHost.UseUrls(settings.Urls);
        }

        // ASP.NET's per-request "Request starting …" line prints the query string, and clients may put their key
        // there. Keep that logger quiet; MixProxy logs what it needs without secrets.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        settings.ConfigureLogging?.Invoke(builder.Logging);

        var services = builder.Services;

        // Kestrel binds its endpoints from "Kestrel" but not its limits: without this, Kestrel:Limits:* (the body size
        // limit, say) would be silently ignored.
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(builder.Configuration.GetSection("Kestrel"));
        AddRequestLimits(services);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(settings.Protocols);
        services.AddOptions<ConfigFileOptions>()
            .BindConfiguration(ConfigFileOptions.Section)
            .Configure(o =>
            {
                o.Path = settings.ConfigPath;
                o.PollInterval = settings.ConfigPollInterval ?? o.PollInterval;
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConfigFileOptions>, ConfigFileOptionsValidator>();
        services.AddSingleton<GatewayConfigStore>();
        services.AddSingleton(sp => new GatewayConfigLoader(sp.GetRequiredService<IConfigValidator>(), sp.GetRequiredService<ProtocolRegistry>(), settings.Environment));
        services.AddSingleton<ConfigFileWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<ConfigFileWatcher>());
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<GatewayConfigStore>().Proxy);
        AddRateLimitingAndCaches(services);
        AddDrain(services);
        AddTelemetry(builder, settings);
        AddUpstreams(services);
        services.AddReverseProxy()
            .AddTransforms<GatewayTransformProvider>();
        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, UpstreamHttpClientFactory>();
        services.AddSingleton<Yarp.ReverseProxy.Health.IProbingRequestFactory, CredentialedProbeFactory>();

        // Every setting is checked now, while the caller can still report it, rather than at the first request. (Building
        // already reads Kestrel's options, and so the request limits its backstop is set from.)
        WebApplication app;
        try
        {
            app = builder.Build();
            app.Services.GetRequiredService<IStartupValidator>().Validate();
        }
        catch (OptionsValidationException e)
        {
            throw new InvalidOperationException($"Invalid setting ({e.OptionsType.Name}): {string.Join("; ", e.Failures)}", e);
        }

        var content = await ReadConfigAsync(settings.ConfigPath, cancellationToken).ConfigureAwait(false);
        try
        {
            var snapshot = await app.Services.GetRequiredService<GatewayConfigLoader>().ParseAsync(content, generation: 1).ConfigureAwait(false);
            app.Services.GetRequiredService<GatewayConfigStore>().Apply(snapshot);
        }
        catch (GatewayConfigException e)
        {
            throw new InvalidOperationException($"Config file '{settings.ConfigPath}' is invalid:{System.Environment.NewLine}{e.Message}", e);
        }

        app.Services.GetRequiredService<ConfigFileWatcher>().Seed(content);
        var metrics = app.Services.GetRequiredService<GatewayMetrics>();
        var configStore = app.Services.GetRequiredService<GatewayConfigStore>();
        var limiter = app.Services.GetRequiredService<GatewayRateLimiter>();
        metrics.ConfigGeneration = () => configStore.Current.Generation;
        metrics.LimiterDegraded = () => limiter.Degraded;
        var health = app.Services.GetRequiredService<UpstreamHealth>();
        var proxyState = app.Services.GetRequiredService<Yarp.ReverseProxy.IProxyStateLookup>();
        metrics.DestinationStates = () => UpstreamStatusEndpoints.Readings(configStore, health, proxyState);

        var telemetry = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        var protocols = app.Services.GetRequiredService<ProtocolRegistry>();

        // /metrics and the operator's endpoints: on the metrics port when one is set, else on the main port for
        // loopback callers only.
        bool IsOperator(HttpContext context) => telemetry.MetricsPort is { } port
            ? context.Connection.LocalPort == port
            : context.Connection.RemoteIpAddress is { } remote && System.Net.IPAddress.IsLoopback(remote);
        // A request head over the gateway's limits is refused first, in its caller's protocol, before routing matches it.
        app.UseMiddleware<RequestLimitsMiddleware>();
        app.UseRouting();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Request.Path == "/metrics" && IsOperator(context));
        app.UseDrainRefusal(protocols);
        if (telemetry.MetricsPort is { } metricsPort)
        {
            // The metrics port serves metrics and the operator's endpoints only: the API is not reachable through it.
            app.Use((context, next) =>
            {
                if (context.Connection.LocalPort != metricsPort || context.Request.Path.StartsWithSegments(UpstreamStatusEndpoints.Path))
                {
                    return next(context);
                }

                context.Response.StatusCode = 404;
                return Task.CompletedTask;
            });
        }

        // Anything outside the gateway's routes (wrong path, wrong method) still answers in the caller's protocol.
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            var message = status == 405
                ? $"Method {http.Request.Method} is not allowed on {http.Request.Path}."
                : $"No endpoint serves {http.Request.Method} {http.Request.Path}.";
            return ClientErrors.WriteAsync(http, protocols.ClientApiFor(new HttpRequestHead(http.Request)), new ClientError(status, message));
        });
        app.MapHealth();
        app.MapUpstreamStatus(IsOperator);
        app.MapModelCatalog(protocols);
        app.MapStoredResults(protocols);
        app.MapReverseProxy(proxy =>
        {
            // One middleware per job, in this order; each fills its part of the request's GatewayRequest.
            proxy.UseMiddleware<GatewayRequestMiddleware>();
            proxy.UseMiddleware<ClientAuthenticationMiddleware>();
            proxy.UseMiddleware<RequestParsingMiddleware>();
            proxy.UseMiddleware<ModelRoutingMiddleware>();
            proxy.UseMiddleware<ExchangeMiddleware>();
            proxy.UseMiddleware<AdmissionMiddleware>();
            proxy.UseMiddleware<ResponseCacheMiddleware>();
            proxy.UseMiddleware<ForwardingErrorMiddleware>();
            proxy.UseMiddleware<UpstreamAttemptsMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }

    /// <summary>
    /// Limits run in memory unless a Redis connection is configured (<c>MixProxy:RateLimiting:Redis</c> or
    /// <c>MIXPROXY_REDIS</c>); the response and thought-signature caches use the same store. The multiplexer never
    /// blocks start-up and fails fast while Redis is away.
    /// </summary>
    private static void AddRateLimitingAndCaches(IServiceCollection services)
    {
        services.AddOptions<RateLimitingOptions>()
            .BindConfiguration(RateLimitingOptions.Section)
            .PostConfigure<IConfiguration>((options, configuration) => options.Redis ??= configuration["MIXPROXY_REDIS"])
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitingOptions>, RateLimitingOptionsValidator>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<RateLimitingOptions>>().Value);
        services.AddSingleton<InMemoryLimiterStore>();
        services.AddSingleton<ResponseCache>();
        services.AddSingleton<ThoughtSignatureCache>();
        services.AddOptions<StoredResultOptions>().BindConfiguration(StoredResultOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StoredResultOptions>, StoredResultOptionsValidator>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<StoredResultOptions>>().Value);
        services.AddSingleton<StoredResultStore>();
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var options = sp.GetRequiredService<RateLimitingOptions>();
            var redis = ConfigurationOptions.Parse(options.Redis!);
            redis.AbortOnConnectFail = false;
            redis.BacklogPolicy = BacklogPolicy.FailFast;
            redis.AsyncTimeout = (int)options.RedisTimeout.TotalMilliseconds;
            redis.SyncTimeout = (int)options.RedisTimeout.TotalMilliseconds;
            redis.ConnectTimeout = Math.Max(1000, (int)options.RedisTimeout.TotalMilliseconds);
            redis.ReconnectRetryPolicy = new LinearRetry(500);
            return ConnectionMultiplexer.Connect(redis);
        });
        services.AddSingleton(sp => new RedisLimiterStore(sp.GetRequiredService<IConnectionMultiplexer>()));
        services.AddSingleton(sp =>
        {
            var redis = sp.GetRequiredService<IConnectionMultiplexer>();
            var failover = new FailoverLimiterStore(
                sp.GetRequiredService<RedisLimiterStore>(),
                sp.GetRequiredService<InMemoryLimiterStore>(),
                sp.GetRequiredService<RateLimitingOptions>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<GatewayMetrics>(),
                sp.GetRequiredService<ILogger<FailoverLimiterStore>>());

            // The multiplexer's own view of the connection moves the breaker even when no request is passing.
            redis.ConnectionFailed += (_, e) =>
            {
                if (e.ConnectionType == ConnectionType.Interactive)
                {
                    failover.ConnectionLost(e.FailureType.ToString());
                }
            };
            redis.ConnectionRestored += (_, _) => failover.ConnectionRestored();
            return failover;
        });
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<RateLimitingOptions>();
            return UsesRedis(options)
                ? new GatewayRateLimiter(sp.GetRequiredService<InMemoryLimiterStore>(), options, sp.GetRequiredService<FailoverLimiterStore>())
                : new GatewayRateLimiter(sp.GetRequiredService<InMemoryLimiterStore>(), options);
        });

        // The caches share the limiter's connection (and so its fail-fast settings), or live in this process.
        services.AddOptions<MemoryDistributedCacheOptions>();
        services.AddOptions<RedisCacheOptions>()
            .Configure<IServiceProvider>((cache, sp) =>
            {
                cache.ConnectionMultiplexerFactory = () => Task.FromResult(sp.GetRequiredService<IConnectionMultiplexer>());
                cache.InstanceName = LimiterKeys.Prefix + "cache:";
            });
        // On Redis, behind the limiter's circuit breaker: a hung Redis costs the caches one wait, not one per call.
        services.AddSingleton<IDistributedCache>(sp => UsesRedis(sp.GetRequiredService<RateLimitingOptions>())
            ? new BreakerGuardedCache(new RedisCache(sp.GetRequiredService<IOptions<RedisCacheOptions>>()), sp.GetRequiredService<FailoverLimiterStore>())
            : new MemoryDistributedCache(sp.GetRequiredService<IOptions<MemoryDistributedCacheOptions>>()));
    }

    /// <summary>
    /// The largest request head the gateway answers itself (414, 431 in the caller's protocol), and Kestrel's own limits
    /// kept above it as a backstop; both checked before the gateway starts.
    /// </summary>
    private static void AddRequestLimits(IServiceCollection services)
    {
        services.AddOptions<RequestLimitsOptions>().BindConfiguration(RequestLimitsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RequestLimitsOptions>, RequestLimitsOptionsValidator>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<RequestLimitsOptions>>().Value);
        services.AddSingleton<KestrelBackstop>();
        services.AddSingleton<IPostConfigureOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>>(sp => sp.GetRequiredService<KestrelBackstop>());
        services.AddSingleton<IValidateOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>>(sp => sp.GetRequiredService<KestrelBackstop>());
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>().ValidateOnStart();
    }

    /// <summary>
    /// Destinations' health lives in this process, and is shared through Redis when Redis is configured (the same
    /// connection as the limiter's); the router decides where each attempt goes.
    /// </summary>
    private static void AddUpstreams(IServiceCollection services)
    {
        services.AddSingleton<UpstreamHealth>();
        services.AddSingleton<UpstreamRouter>();
        services.AddHostedService<RedisCooldownSharing>();
    }

    /// <summary>
    /// SIGTERM drains: readiness fails, new requests are refused, requests in flight get the drain time, and the host
    /// waits that long (plus the time to write the last error events) before it aborts what is left.
    /// </summary>
    private static void AddDrain(IServiceCollection services)
    {
        services.AddOptions<DrainOptions>().BindConfiguration(DrainOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DrainOptions>, DrainOptionsValidator>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<DrainOptions>>().Value);
        services.AddOptions<HostOptions>().Configure<IOptions<DrainOptions>>((host, drain) => host.ShutdownTimeout = drain.Value.DrainTimeout + GatewayDrain.Grace);
        services.AddSingleton<GatewayDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayDrain>());
    }

    private static bool UsesRedis(RateLimitingOptions options) => !string.IsNullOrWhiteSpace(options.Redis);

    /// <summary>
    /// One OpenTelemetry pipeline: MixProxy's meter plus the built-in ASP.NET Core, Kestrel, HttpClient and runtime
    /// meters, exported for Prometheus; traces over the same hops when an OTLP endpoint is configured.
    /// </summary>
    private static void AddTelemetry(WebApplicationBuilder builder, GatewayHostSettings settings)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<TelemetryOptions>>().Value);
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton<RequestMetrics>();

        // The listen address must be known before the host is built; the same values are validated on start, before
        // Kestrel binds anything.
        if (builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() is { MetricsPort: { } port } telemetry)
        {
            var urls = settings.Urls ?? builder.Configuration["urls"] ?? "http://localhost:5000";
            builder.WebHost.UseUrls($"{urls};http://{telemetry.MetricsAddress}:{port}");
        }

        // Request and connection durations of LLM traffic run to minutes: the built-in 10 s ceiling would flatten them.
        double[] seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640];
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("mixproxy"))
            .WithMetrics(metrics => metrics
                .AddMeter(GatewayMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime")
                .AddView("http.server.request.duration", new ExplicitBucketHistogramConfiguration { Boundaries = seconds })
                .AddView("http.client.request.duration", new ExplicitBucketHistogramConfiguration { Boundaries = seconds })
                .AddView("kestrel.connection.duration", new ExplicitBucketHistogramConfiguration { Boundaries = seconds })
                // Upstream peer addresses are an unbounded label set: keep only the bounded ones.
                .AddView("http.client.open_connections", new MetricStreamConfiguration { TagKeys = ["http.connection.state", "server.address", "server.port", "url.scheme", "network.protocol.version"] })
                .AddView("http.client.connection.duration", new MetricStreamConfiguration { TagKeys = ["server.address", "server.port", "url.scheme", "network.protocol.version"] })
                // Prometheus reserves the _count suffix for histograms and summaries (promtool flags these three).
                .AddView("dotnet.assembly.count", new MetricStreamConfiguration { Name = "dotnet.assembly.loaded" })
                .AddView("dotnet.process.cpu.count", new MetricStreamConfiguration { Name = "dotnet.process.cpu.cores" })
                .AddView("dotnet.timer.count", new MetricStreamConfiguration { Name = "dotnet.timer.active" })
                .AddPrometheusExporter());

        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(tracing => tracing
                .AddSource("Microsoft.AspNetCore", "System.Net.Http")
                .AddOtlpExporter());
        }
    }

    private static async Task<byte[]> ReadConfigAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Config file '{path}' cannot be read: {e.Message}", e);
        }
    }
}
