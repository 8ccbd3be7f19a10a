using MixProxy.Caching;
using MixProxy.Configuration;
using MixProxy.Endpoints;
using MixProxy.Proxy;
using MixProxy.RateLimiting;
using MixProxy.Telemetry;
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

    public TimeSpan ConfigPollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Where upstream credentials are looked up; the process environment unless a test says otherwise.</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    public string[] Args { get; init; } = [];

    /// <summary>Extra logging set-up (tests capture logs to prove secrets stay out of them).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }
}

/// <summary>Composes the gateway: config store and watcher, YARP with MixProxy's pipeline and transforms, and the local endpoints.</summary>
public static class GatewayHost
{
    /// <summary>
    /// Builds the gateway and applies the config file's first generation. Throws
    /// <see cref="InvalidOperationException"/> naming every problem when the file is unusable.
    /// </summary>
    public static async Task<WebApplication> BuildAsync(GatewayHostSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = settings.Args, ApplicationName = typeof(GatewayHost).Assembly.GetName().Name });
        if (settings.Urls is not null)
        {
            builder.WebHost.UseUrls(settings.Urls);
        }

        // ASP.NET's per-request "Request starting …" line prints the query string, and Gemini clients may put
        // their key there (?key=). Keep that logger quiet; MixProxy logs what it needs without secrets.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        settings.ConfigureLogging?.Invoke(builder.Logging);

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.Configure<ConfigFileOptions>(o =>
        {
            o.Path = settings.ConfigPath;
            o.PollInterval = settings.ConfigPollInterval;
        });
        services.AddSingleton<GatewayConfigStore>();
        services.AddSingleton(sp => new GatewayConfigLoader(sp.GetRequiredService<IConfigValidator>(), settings.Environment));
        services.AddSingleton<ConfigFileWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<ConfigFileWatcher>());
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<GatewayConfigStore>().Proxy);
        AddRateLimiting(builder);
        var telemetry = AddTelemetry(builder, settings);
        services.AddReverseProxy()
            .AddTransforms<GatewayTransformProvider>()
            .ConfigureHttpClient((_, handler) =>
            {
                // Pick up DNS changes of cloud endpoints; YARP keeps pooled connections forever by default.
                handler.PooledConnectionLifetime = TimeSpan.FromMinutes(5);
            });

        var app = builder.Build();

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

        // /metrics: on its own port when one is set, else on the main port for loopback callers only.
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
            context.Request.Path == "/metrics"
            && (telemetry.MetricsPort is { } port
                ? context.Connection.LocalPort == port
                : context.Connection.RemoteIpAddress is { } remote && System.Net.IPAddress.IsLoopback(remote)));
        if (telemetry.MetricsPort is { } metricsPort)
        {
            // The metrics port serves metrics only: the API is not reachable through it.
            app.Use((context, next) =>
            {
                if (context.Connection.LocalPort != metricsPort)
                {
                    return next(context);
                }

                context.Response.StatusCode = 404;
                return Task.CompletedTask;
            });
        }

        // Anything outside the gateway's routes (wrong path, wrong method) still answers in the caller's protocol.
        app.UseStatusCodePages(context => ClientErrors.WriteAsync(
            context.HttpContext,
            ClientErrors.GuessProtocol(context.HttpContext.Request),
            context.HttpContext.Response.StatusCode,
            context.HttpContext.Response.StatusCode == 405
                ? $"Method {context.HttpContext.Request.Method} is not allowed on {context.HttpContext.Request.Path}."
                : $"No endpoint serves {context.HttpContext.Request.Method} {context.HttpContext.Request.Path}."));
        app.MapHealth();
        app.MapModelCatalog();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<GatewayRequestMiddleware>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }

    /// <summary>
    /// Limits run in memory unless a Redis connection is configured (<c>MixProxy:RateLimiting:Redis</c> or
    /// <c>MIXPROXY_REDIS</c>). The multiplexer never blocks start-up and fails fast while Redis is away.
    /// </summary>
    private static void AddRateLimiting(WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(RateLimitingOptions.Section);
        var options = section.Get<RateLimitingOptions>() ?? new RateLimitingOptions();
        options.Redis ??= builder.Configuration["MIXPROXY_REDIS"];
        var validation = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), validation, validateAllProperties: true))
        {
            throw new InvalidOperationException($"{RateLimitingOptions.Section} is invalid: " + string.Join("; ", validation.Select(v => v.ErrorMessage)));
        }

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton<InMemoryLimiterStore>();
        services.AddSingleton<ResponseCache>();
        services.AddSingleton<ThoughtSignatureCache>();
        if (string.IsNullOrWhiteSpace(options.Redis))
        {
            services.AddSingleton(sp => new GatewayRateLimiter(sp.GetRequiredService<InMemoryLimiterStore>(), options));
            services.AddDistributedMemoryCache();
            return;
        }

        var redisOptions = ConfigurationOptions.Parse(options.Redis);
        redisOptions.AbortOnConnectFail = false;
        redisOptions.BacklogPolicy = BacklogPolicy.FailFast;
        redisOptions.AsyncTimeout = (int)options.RedisTimeout.TotalMilliseconds;
        redisOptions.SyncTimeout = (int)options.RedisTimeout.TotalMilliseconds;
        redisOptions.ConnectTimeout = Math.Max(1000, (int)options.RedisTimeout.TotalMilliseconds);
        redisOptions.ReconnectRetryPolicy = new LinearRetry(500);
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redisOptions));
        services.AddSingleton(sp => new RedisLimiterStore(sp.GetRequiredService<IConnectionMultiplexer>()));
        services.AddSingleton(sp =>
        {
            var redis = sp.GetRequiredService<IConnectionMultiplexer>();
            return new FailoverLimiterStore(
                () => redis.IsConnected,
                sp.GetRequiredService<RedisLimiterStore>(),
                sp.GetRequiredService<InMemoryLimiterStore>(),
                options,
                sp.GetRequiredService<GatewayMetrics>(),
                sp.GetRequiredService<ILogger<FailoverLimiterStore>>());
        });
        services.AddSingleton(sp => new GatewayRateLimiter(sp.GetRequiredService<InMemoryLimiterStore>(), options, sp.GetRequiredService<FailoverLimiterStore>()));

        // The response cache shares the limiter's connection (and so its fail-fast settings).
        services.AddStackExchangeRedisCache(_ => { });
        services.AddOptions<Microsoft.Extensions.Caching.StackExchangeRedis.RedisCacheOptions>()
            .Configure<IConnectionMultiplexer>((cache, redis) =>
            {
                cache.ConnectionMultiplexerFactory = () => Task.FromResult(redis);
                cache.InstanceName = LimiterKeys.Prefix + "cache:";
            });
    }

    /// <summary>
    /// One OpenTelemetry pipeline: MixProxy's meter plus the built-in ASP.NET Core, Kestrel, HttpClient and runtime
    /// meters, exported for Prometheus; traces over the same hops when an OTLP endpoint is configured.
    /// </summary>
    private static TelemetryOptions AddTelemetry(WebApplicationBuilder builder, GatewayHostSettings settings)
    {
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }

        if (options.MetricsPort is { } port)
        {
            var urls = settings.Urls ?? builder.Configuration["urls"] ?? "http://localhost:5000";
            builder.WebHost.UseUrls($"{urls};http://{options.MetricsAddress}:{port}");
        }

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<GatewayMetrics>();

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

        return options;
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
