using System.Text.Json;
using System.Text.Json.Serialization;
using MixProxy.Auth;
using MixProxy.Caching;
using MixProxy.RateLimiting;
using MixProxy.Routing;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace MixProxy.Configuration;

/// <summary>A config file that cannot be used; <see cref="Exception.Message"/> lists every problem found.</summary>
internal sealed class GatewayConfigException : Exception
{
    public GatewayConfigException(string message)
        : base(message)
    {
    }

    public GatewayConfigException()
    {
    }

    public GatewayConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Reads and validates <c>proxy.json</c> into a <see cref="GatewaySnapshot"/>. Every problem is collected, so an
/// operator fixes a broken file in one pass; YARP's own validator checks the routes and clusters, and the protocol
/// registry says which client APIs, upstream protocols and credential styles there are.
/// </summary>
internal sealed class GatewayConfigLoader(IConfigValidator yarpValidator, ProtocolRegistry protocols, Func<string, string?> environment)
{
    /// <summary>The <c>MixProxy.UpstreamAuth</c> value for an upstream that takes no credential.</summary>
    internal const string NoUpstreamAuth = "None";

    /// <summary>
    /// Routes leave ClusterId out: the model map picks the cluster per request. YARP still wants every route to
    /// name one before the proxy pipeline runs, so they share this destination-less placeholder until the
    /// gateway middleware reassigns the request.
    /// </summary>
    internal const string ModelMapClusterId = "mixproxy.model-map";

    // LLM calls can sit silent for minutes before the first byte; YARP's 100 s idle default would cut them.
    internal static readonly TimeSpan DefaultActivityTimeout = TimeSpan.FromMinutes(10);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public async Task<GatewaySnapshot> LoadAsync(string path, long generation, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GatewayConfigException($"Cannot read config file '{path}': {e.Message}");
        }

        return await ParseAsync(bytes, generation).ConfigureAwait(false);
    }

    public async Task<GatewaySnapshot> ParseAsync(byte[] json, long generation)
    {
        GatewayConfigDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<GatewayConfigDocument>(json, JsonOptions);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new GatewayConfigException($"Invalid JSON or value: {e.Message}");
        }

        if (document is null)
        {
            throw new GatewayConfigException("The config file is empty.");
        }

        var errors = new List<string>();

        // JSON null entries are reported, never dereferenced: a reload must not be able to crash the watcher.
        foreach (var (id, _) in (document.ReverseProxy?.Clusters ?? []).Where(c => c.Value is null))
        {
            errors.Add($"Cluster '{id}': must be an object, not null.");
        }

        foreach (var (id, _) in (document.ReverseProxy?.Routes ?? []).Where(r => r.Value is null))
        {
            errors.Add($"Route '{id}': must be an object, not null.");
        }

        var clusters = (document.ReverseProxy?.Clusters ?? []).Where(c => c.Value is not null).Select(c => WithDefaults(c.Value with { ClusterId = c.Key })).ToList();
        var routes = (document.ReverseProxy?.Routes ?? []).Where(r => r.Value is not null).Select(r => r.Value with { RouteId = r.Key }).ToList();
        var clusterIds = clusters.Select(c => c.ClusterId).ToHashSet(StringComparer.Ordinal);
        if (clusterIds.Contains(ModelMapClusterId))
        {
            errors.Add($"Cluster '{ModelMapClusterId}': this name is reserved by MixProxy.");
        }

        if (routes.Count == 0)
        {
            errors.Add("ReverseProxy.Routes: at least one route is required.");
        }

        var routeSettings = new Dictionary<string, RouteSettings>(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            foreach (var error in await yarpValidator.ValidateRouteAsync(route).ConfigureAwait(false))
            {
                errors.Add($"Route '{route.RouteId}': {error.Message}");
            }

            if (route.ClusterId is { } clusterId && !clusterIds.Contains(clusterId))
            {
                errors.Add($"Route '{route.RouteId}': unknown cluster '{clusterId}'.");
            }

            var metadata = route.Metadata ?? new Dictionary<string, string>();
            if (!metadata.TryGetValue(MetadataKeys.Api, out var api) || protocols.FindEndpoint(api) is not { } endpoint)
            {
                errors.Add($"Route '{route.RouteId}': Metadata '{MetadataKeys.Api}' must be one of {string.Join(", ", protocols.EndpointIds)}.");
                continue;
            }

            var outputText = true;
            if (metadata.TryGetValue(MetadataKeys.OutputText, out var flag) && !bool.TryParse(flag, out outputText))
            {
                errors.Add($"Route '{route.RouteId}': Metadata '{MetadataKeys.OutputText}' must be true or false.");
            }

            var cache = false;
            if (metadata.TryGetValue(MetadataKeys.Cache, out var cacheFlag) && !bool.TryParse(cacheFlag, out cache))
            {
                errors.Add($"Route '{route.RouteId}': Metadata '{MetadataKeys.Cache}' must be true or false.");
            }

            TimeSpan? ttl = null;
            if (metadata.TryGetValue(MetadataKeys.CacheTtl, out var ttlText))
            {
                if (TimeSpan.TryParse(ttlText, System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed > TimeSpan.Zero)
                {
                    ttl = parsed;
                }
                else
                {
                    errors.Add($"Route '{route.RouteId}': Metadata '{MetadataKeys.CacheTtl}' must be a positive duration such as 00:05:00.");
                }
            }

            routeSettings[route.RouteId] = new RouteSettings(endpoint, outputText, cache, ttl);
        }

        var credentials = new Dictionary<string, UpstreamCredential>(StringComparer.Ordinal);
        var forwardHeaders = new Dictionary<string, HeaderAllowList>(StringComparer.Ordinal);
        foreach (var cluster in clusters)
        {
            foreach (var error in await yarpValidator.ValidateClusterAsync(cluster).ConfigureAwait(false))
            {
                errors.Add($"Cluster '{cluster.ClusterId}': {error.Message}");
            }

            if (cluster.Destinations is not { Count: > 0 })
            {
                errors.Add($"Cluster '{cluster.ClusterId}': at least one destination is required.");
            }

            credentials[cluster.ClusterId] = ReadCredential(cluster, errors);
            forwardHeaders[cluster.ClusterId] = new HeaderAllowList(cluster.Metadata?.GetValueOrDefault(MetadataKeys.ForwardHeaders));
        }

        var models = ReadModels(document.Models, clusterIds, errors);
        var keys = ReadKeys(document.Keys, errors);

        if (errors.Count > 0)
        {
            throw new GatewayConfigException(string.Join(Environment.NewLine, errors));
        }

        routes = routes.Select(r => r.ClusterId is null ? r with { ClusterId = ModelMapClusterId } : r).ToList();
        clusters.Add(new ClusterConfig { ClusterId = ModelMapClusterId });
        return new GatewaySnapshot(generation, routes, clusters, routeSettings, credentials, forwardHeaders, new ModelMap(models), keys);
    }

    private static ClusterConfig WithDefaults(ClusterConfig cluster) =>
        cluster.HttpRequest?.ActivityTimeout is not null
            ? cluster
            : cluster with { HttpRequest = (cluster.HttpRequest ?? new ForwarderRequestConfig()) with { ActivityTimeout = DefaultActivityTimeout } };

    private UpstreamCredential ReadCredential(ClusterConfig cluster, List<string> errors)
    {
        var metadata = cluster.Metadata ?? new Dictionary<string, string>();
        var style = metadata.GetValueOrDefault(MetadataKeys.UpstreamAuth) ?? NoUpstreamAuth;
        if (style == NoUpstreamAuth)
        {
            return UpstreamCredential.None;
        }

        if (!protocols.UpstreamCredentials.TryGetValue(style, out var source))
        {
            errors.Add($"Cluster '{cluster.ClusterId}': Metadata '{MetadataKeys.UpstreamAuth}' must be one of {string.Join(", ", protocols.UpstreamCredentials.Keys.Prepend(NoUpstreamAuth))}.");
            return UpstreamCredential.None;
        }

        if (!metadata.TryGetValue(MetadataKeys.CredentialEnv, out var variable) || string.IsNullOrWhiteSpace(variable))
        {
            errors.Add($"Cluster '{cluster.ClusterId}': Metadata '{MetadataKeys.CredentialEnv}' must name the environment variable that holds the upstream credential.");
            return UpstreamCredential.None;
        }

        var secret = environment(variable);
        if (string.IsNullOrEmpty(secret))
        {
            errors.Add($"Cluster '{cluster.ClusterId}': environment variable '{variable}' (its upstream credential) is not set.");
            return UpstreamCredential.None;
        }

        return new UpstreamCredential(source, secret);
    }

    private List<ModelRoute> ReadModels(List<ModelDocument>? documents, HashSet<string> clusterIds, List<string> errors)
    {
        var models = new List<ModelRoute>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (documents is not { Count: > 0 })
        {
            errors.Add("Models: at least one model is required.");
            return models;
        }

        for (var i = 0; i < documents.Count; i++)
        {
            var m = documents[i];
            if (m is null)
            {
                errors.Add($"Models[{i}]: must be an object, not null.");
                continue;
            }

            var where = $"Models[{i}]" + (m.Name is null ? string.Empty : $" '{m.Name}'");
            if (string.IsNullOrWhiteSpace(m.Name))
            {
                errors.Add($"{where}: Name is required.");
                continue;
            }

            if (!names.Add(m.Name))
            {
                errors.Add($"{where}: duplicate model name.");
            }

            if (m.Cluster is null || !clusterIds.Contains(m.Cluster))
            {
                errors.Add($"{where}: unknown cluster '{m.Cluster}'.");
            }

            var known = string.Join(", ", protocols.UpstreamProtocols.Select(p => p.Name));
            var spoken = new List<WireProtocol>();
            foreach (var name in m.Protocols ?? [protocols.DefaultUpstreamProtocol.Name])
            {
                if (protocols.FindProtocol(name) is { } protocol)
                {
                    spoken.Add(protocol);
                }
                else
                {
                    errors.Add($"{where}: protocol '{name}' is not one of {known}.");
                }
            }

            if (spoken.Count == 0)
            {
                errors.Add($"{where}: Protocols must list at least one of {known}.");
                continue;
            }

            var thinking = ThinkingStyle.None;
            if (m.Thinking?.Style is { } style && (!Enum.TryParse(style, ignoreCase: false, out thinking) || !Enum.IsDefined(thinking)))
            {
                errors.Add($"{where}: Thinking.Style must be None, Level or Budget.");
            }

            var levels = m.Thinking?.Levels ?? ["low", "high"];
            var allowedLevels = new[] { "minimal", "low", "medium", "high" };
            if (levels.Count == 0 || levels.Any(l => !allowedLevels.Contains(l)))
            {
                errors.Add($"{where}: Thinking.Levels must be a non-empty list of minimal, low, medium, high.");
            }

            var ordered = allowedLevels.Where(levels.Contains).ToList();
            var min = m.Thinking?.MinBudget ?? 0;
            var max = m.Thinking?.MaxBudget ?? 24576;
            if (min < 0 || max < min)
            {
                errors.Add($"{where}: Thinking budgets must satisfy 0 <= MinBudget <= MaxBudget.");
            }

            var maxTopLogprobs = m.MaxTopLogprobs ?? UpstreamModelProfile.OpenAIMaxTopLogprobs;
            if (maxTopLogprobs is < 0 or > UpstreamModelProfile.OpenAIMaxTopLogprobs)
            {
                errors.Add($"{where}: MaxTopLogprobs must be between 0 and {UpstreamModelProfile.OpenAIMaxTopLogprobs}.");
            }

            models.Add(new ModelRoute(m.Name, m.Cluster ?? string.Empty, spoken, m.UpstreamModel, thinking, ordered.Count > 0 ? ordered : ["low", "high"], min, max, m.Penalties ?? true, m.JsonSchema ?? true)
            {
                PartMediaResolution = m.MediaResolution ?? thinking == ThinkingStyle.Level,
                MaxTopLogprobs = maxTopLogprobs,
                FunctionCallIds = m.FunctionCallIds ?? false,
                SearchWithFunctions = m.SearchWithFunctions ?? thinking == ThinkingStyle.Level,
            }.WithProfile());
        }

        return models;
    }

    private static Dictionary<string, ClientKey> ReadKeys(List<KeyDocument>? documents, List<string> errors)
    {
        var keys = new Dictionary<string, ClientKey>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (documents?.Count ?? 0); i++)
        {
            var k = documents![i];
            if (k is null)
            {
                errors.Add($"Keys[{i}]: must be an object, not null.");
                continue;
            }

            var where = $"Keys[{i}]" + (k.Name is null ? string.Empty : $" '{k.Name}'");
            if (string.IsNullOrWhiteSpace(k.Name) || !names.Add(k.Name))
            {
                errors.Add($"{where}: a unique Name is required.");
            }

            if (k.Hash is null || !ApiKeyHash.IsWellFormed(k.Hash))
            {
                errors.Add($"{where}: Hash must be '{ApiKeyHash.Prefix}' followed by 64 lowercase hex digits (run 'mixproxy hash-key').");
                continue;
            }

            if (k.Models is not { Count: > 0 })
            {
                errors.Add($"{where}: Models must list the models (or patterns, '*' for all) this key may use.");
                continue;
            }

            var limits = ReadLimits(k.Limits, where, errors);
            var sharing = CacheSharing.Private;
            if (k.Cache is { } cacheText && (!Enum.TryParse(cacheText, ignoreCase: false, out sharing) || !Enum.IsDefined(sharing)))
            {
                errors.Add($"{where}: Cache must be Private, Shared or Off.");
            }

            if (!keys.TryAdd(k.Hash, new ClientKey(k.Name ?? string.Empty, k.Hash, k.Models, limits, sharing)))
            {
                errors.Add($"{where}: the same key hash appears twice.");
            }
        }

        return keys;
    }

    private static KeyLimits ReadLimits(LimitsDocument? document, string where, List<string> errors)
    {
        if (document is null)
        {
            return KeyLimits.None;
        }

        LimitSet Set(LimitsDocument d, string at)
        {
            if (d.RequestsPerMinute is <= 0 || d.TokensPerMinute is <= 0 || d.ConcurrentRequests is <= 0)
            {
                errors.Add($"{at}: limits must be positive numbers (leave a limit out for unlimited).");
            }

            return new LimitSet(d.RequestsPerMinute, d.TokensPerMinute, d.ConcurrentRequests);
        }

        var perModel = new List<(string, LimitSet)>();
        foreach (var (pattern, model) in document.Models ?? [])
        {
            var at = $"{where}.Limits.Models['{pattern}']";
            if (model is null)
            {
                errors.Add($"{at}: must be an object, not null.");
                continue;
            }

            if (model.ConcurrentRequests is not null || model.Models is not null)
            {
                errors.Add($"{at}: per-model limits take RequestsPerMinute and TokensPerMinute only.");
            }

            perModel.Add((pattern, Set(model, at)));
        }

        return new KeyLimits(Set(document, where + ".Limits"), perModel);
    }
}
