using System.Text.Json;
using System.Text.Json.Serialization;
using MixProxy.Auth;
using MixProxy.Caching;
using MixProxy.RateLimiting;
using MixProxy.Routing;
using MixProxy.Upstreams;
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
        var clusterDocuments = new List<(ClusterConfig Cluster, ClusterExtensionsDocument Extensions)>();
        foreach (var (id, element) in document.ReverseProxy?.Clusters ?? [])
        {
            if (ReadCluster(id, element, errors) is { } read)
            {
                clusterDocuments.Add(read);
            }
        }

        foreach (var (id, _) in (document.ReverseProxy?.Routes ?? []).Where(r => r.Value is null))
        {
            errors.Add($"Route '{id}': must be an object, not null.");
        }

        var resilience = clusterDocuments.ToDictionary(c => c.Cluster.ClusterId, c => ReadResilience(c.Cluster.ClusterId, c.Extensions.Resilience, errors), StringComparer.Ordinal);
        var clusters = clusterDocuments.Select(c => WithResilience(c.Cluster, c.Extensions.Resilience, errors)).ToList();
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

        var upstreams = new Dictionary<string, UpstreamCluster>(StringComparer.Ordinal);
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

            upstreams[cluster.ClusterId] = new UpstreamCluster(
                cluster.ClusterId,
                ReadDestinations(cluster, errors),
                new HeaderAllowList(cluster.Metadata?.GetValueOrDefault(MetadataKeys.ForwardHeaders)),
                resilience[cluster.ClusterId],
                ReadDialect(cluster, errors));
        }

        var models = ReadModels(document.Models, clusterIds, errors);
        var keys = ReadKeys(document.Keys, errors);

        if (errors.Count > 0)
        {
            throw new GatewayConfigException(string.Join(Environment.NewLine, errors));
        }

        routes = routes.Select(r => r.ClusterId is null ? r with { ClusterId = ModelMapClusterId } : r).ToList();
        clusters.Add(new ClusterConfig { ClusterId = ModelMapClusterId });
        return new GatewaySnapshot(generation, routes, clusters, routeSettings, upstreams, new ModelMap(models), keys);
    }

    private static (ClusterConfig, ClusterExtensionsDocument)? ReadCluster(string id, JsonElement element, List<string> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"Cluster '{id}': must be an object, not {element.ValueKind.ToString().ToLowerInvariant()}.");
            return null;
        }

        try
        {
            var cluster = element.Deserialize<ClusterConfig>(JsonOptions)!;
            var extensions = element.Deserialize<ClusterExtensionsDocument>(JsonOptions)!;
            return (cluster with { ClusterId = id }, extensions);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException)
        {
            errors.Add($"Cluster '{id}': {e.Message}");
            return null;
        }
    }

    private static ResilienceSettings ReadResilience(string clusterId, ResilienceDocument? document, List<string> errors)
    {
        if (document is null)
        {
            return ResilienceSettings.Default;
        }

        var where = $"Cluster '{clusterId}': Resilience";
        var defaults = ResilienceSettings.Default;
        var settings = new ResilienceSettings
        {
            Retries = document.Retries?.Count ?? defaults.Retries,
            RetryBudget = document.Retries?.Budget ?? defaults.RetryBudget,
            Backoff = document.Retries?.Backoff ?? defaults.Backoff,
            MaxBackoff = document.Retries?.MaxBackoff ?? defaults.MaxBackoff,
            QuotaCooldown = document.Cooldown?.Quota ?? defaults.QuotaCooldown,
            MaxQuotaCooldown = document.Cooldown?.MaxQuota ?? defaults.MaxQuotaCooldown,
            FailureThreshold = document.Cooldown?.FailureThreshold ?? defaults.FailureThreshold,
            FailureCooldown = document.Cooldown?.Failure ?? defaults.FailureCooldown,
            MaxFailureCooldown = document.Cooldown?.MaxFailure ?? defaults.MaxFailureCooldown,
            ConnectTimeout = document.Timeouts?.Connect,
            FirstByteTimeout = document.Timeouts?.FirstByte,
            TotalTimeout = document.Timeouts?.Total,
        };

        if (settings.Retries is < 0 or > 10)
        {
            errors.Add($"{where}.Retries.Count must be between 0 and 10.");
        }

        if (settings.FailureThreshold is < 1 or > 100)
        {
            errors.Add($"{where}.Cooldown.FailureThreshold must be between 1 and 100.");
        }

        void Positive(string name, TimeSpan? value)
        {
            if (value is { } v && v <= TimeSpan.Zero)
            {
                errors.Add($"{where}.{name} must be a positive duration such as 00:00:10.");
            }
        }

        Positive("Retries.Budget", settings.RetryBudget);
        Positive("Cooldown.Quota", settings.QuotaCooldown);
        Positive("Cooldown.Failure", settings.FailureCooldown);
        Positive("Timeouts.Connect", settings.ConnectTimeout);
        Positive("Timeouts.FirstByte", settings.FirstByteTimeout);
        Positive("Timeouts.Idle", document.Timeouts?.Idle);
        Positive("Timeouts.Total", settings.TotalTimeout);
        if (settings.Backoff < TimeSpan.Zero || settings.MaxBackoff < settings.Backoff)
        {
            errors.Add($"{where}.Retries: 0 <= Backoff <= MaxBackoff is required.");
        }

        if (settings.MaxQuotaCooldown < settings.QuotaCooldown || settings.MaxFailureCooldown < settings.FailureCooldown)
        {
            errors.Add($"{where}.Cooldown: each maximum must be at least its starting cooldown.");
        }

        if (settings.FirstByteTimeout > settings.TotalTimeout)
        {
            errors.Add($"{where}.Timeouts: FirstByte cannot be longer than Total.");
        }

        return settings;
    }

    /// <summary>
    /// The idle timeout is YARP's <c>ActivityTimeout</c> (10 minutes unless set: LLM calls can sit silent for minutes,
    /// and YARP's 100 s default would cut them), set in one place or the other; the connect timeout travels to the
    /// HTTP client factory in the cluster's metadata.
    /// </summary>
    private static ClusterConfig WithResilience(ClusterConfig cluster, ResilienceDocument? resilience, List<string> errors)
    {
        var idle = resilience?.Timeouts?.Idle;
        if (idle is not null && cluster.HttpRequest?.ActivityTimeout is not null)
        {
            errors.Add($"Cluster '{cluster.ClusterId}': set the idle timeout once, in Resilience.Timeouts.Idle or in HttpRequest.ActivityTimeout.");
        }

        if (cluster.HttpRequest?.ActivityTimeout is null)
        {
            cluster = cluster with { HttpRequest = (cluster.HttpRequest ?? new ForwarderRequestConfig()) with { ActivityTimeout = idle ?? DefaultActivityTimeout } };
        }

        if (resilience?.Timeouts?.Connect is { } connect)
        {
            var metadata = new Dictionary<string, string>(cluster.Metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
            {
                [MetadataKeys.ConnectTimeout] = connect.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            };
            cluster = cluster with { Metadata = metadata };
        }

        return cluster;
    }

    private List<UpstreamDestination> ReadDestinations(ClusterConfig cluster, List<string> errors)
    {
        var destinations = new List<UpstreamDestination>();
        foreach (var (id, destination) in cluster.Destinations ?? new Dictionary<string, DestinationConfig>())
        {
            if (destination is null)
            {
                continue; // YARP's validator reports it
            }

            var where = $"Cluster '{cluster.ClusterId}' destination '{id}'";
            var metadata = destination.Metadata ?? new Dictionary<string, string>();
            var weight = 1;
            if (metadata.TryGetValue(MetadataKeys.Weight, out var weightText)
                && (!int.TryParse(weightText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out weight) || weight is < 1 or > 1000))
            {
                errors.Add($"{where}: Metadata '{MetadataKeys.Weight}' must be a whole number from 1 to 1000.");
            }

            var priority = 0;
            if (metadata.TryGetValue(MetadataKeys.Priority, out var priorityText)
                && (!int.TryParse(priorityText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out priority) || priority > 100))
            {
                errors.Add($"{where}: Metadata '{MetadataKeys.Priority}' must be a whole number from 0 to 100.");
            }

            var group = metadata.GetValueOrDefault(MetadataKeys.QuotaGroup);
            if (group is not null && (group.Length is 0 or > 100 || !group.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
            {
                errors.Add($"{where}: Metadata '{MetadataKeys.QuotaGroup}' must be 1 to 100 letters, digits, '.', '_' or '-'.");
            }

            destinations.Add(new UpstreamDestination(cluster.ClusterId, id, destination.Address ?? string.Empty, ReadCredential(cluster, metadata, where, errors), weight, priority, group));
        }

        return destinations;
    }

    /// <summary>
    /// Which spellings the cluster's upstream takes. Lenient unless the file says Strict: the gateway does not guess it
    /// from the address, since the same service is also reached through egress proxies and API gateways under other
    /// names, and a guess that an operator cannot see is worse than a setting the shipped configs show.
    /// </summary>
    private static UpstreamDialect ReadDialect(ClusterConfig cluster, List<string> errors)
    {
        if (cluster.Metadata?.GetValueOrDefault(MetadataKeys.UpstreamDialect) is not { } value)
        {
            return UpstreamDialect.Lenient;
        }

        if (Enum.TryParse<UpstreamDialect>(value, ignoreCase: false, out var dialect) && Enum.IsDefined(dialect) && !int.TryParse(value, out _))
        {
            return dialect;
        }

        errors.Add($"Cluster '{cluster.ClusterId}': Metadata '{MetadataKeys.UpstreamDialect}' must be one of {string.Join(", ", Enum.GetNames<UpstreamDialect>())}.");
        return UpstreamDialect.Lenient;
    }

    /// <summary>The destination's credential: where its cluster's protocol takes it, the secret from its own variable or its cluster's.</summary>
    private UpstreamCredential ReadCredential(ClusterConfig cluster, IReadOnlyDictionary<string, string> destinationMetadata, string where, List<string> errors)
    {
        var metadata = cluster.Metadata ?? new Dictionary<string, string>();
        var style = metadata.GetValueOrDefault(MetadataKeys.UpstreamAuth) ?? NoUpstreamAuth;
        if (style == NoUpstreamAuth)
        {
            if (destinationMetadata.ContainsKey(MetadataKeys.CredentialEnv))
            {
                errors.Add($"{where}: names a credential variable, but its cluster's '{MetadataKeys.UpstreamAuth}' is None.");
            }

            return UpstreamCredential.None;
        }

        if (!protocols.UpstreamCredentials.TryGetValue(style, out var source))
        {
            errors.Add($"Cluster '{cluster.ClusterId}': Metadata '{MetadataKeys.UpstreamAuth}' must be one of {string.Join(", ", protocols.UpstreamCredentials.Keys.Prepend(NoUpstreamAuth))}.");
            return UpstreamCredential.None;
        }

        var variable = destinationMetadata.GetValueOrDefault(MetadataKeys.CredentialEnv) ?? metadata.GetValueOrDefault(MetadataKeys.CredentialEnv);
        if (string.IsNullOrWhiteSpace(variable))
        {
            errors.Add($"{where}: Metadata '{MetadataKeys.CredentialEnv}' (on the destination or its cluster) must name the environment variable that holds the upstream credential.");
            return UpstreamCredential.None;
        }

        var secret = environment(variable);
        if (string.IsNullOrEmpty(secret))
        {
            errors.Add($"{where}: environment variable '{variable}' (its upstream credential) is not set.");
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
                StrictTranslation = m.StrictTranslation ?? false,
            }.WithProfile());
        }

        return WithFallbacks(models, documents, errors);
    }

    /// <summary>
    /// Each model's fallbacks, in order: exact entries of the map (a pattern names no one model), neither itself nor
    /// twice. A fallback's own fallbacks are not followed: the list a model names is the whole chain.
    /// </summary>
    private static List<ModelRoute> WithFallbacks(List<ModelRoute> models, List<ModelDocument> documents, List<string> errors)
    {
        var exact = models.Where(m => !m.IsPattern).GroupBy(m => m.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var byName = documents.Where(d => d?.Name is not null).GroupBy(d => d.Name!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return models.Select(model =>
        {
            var names = byName.GetValueOrDefault(model.Name)?.Fallbacks;
            if (names is not { Count: > 0 })
            {
                return model;
            }

            var fallbacks = new List<ModelRoute>();
            foreach (var name in names)
            {
                if (name == model.Name || fallbacks.Exists(f => f.Name == name))
                {
                    errors.Add($"Model '{model.Name}': Fallbacks lists '{name}' twice or names the model itself.");
                }
                else if (exact.GetValueOrDefault(name ?? string.Empty) is { } fallback)
                {
                    fallbacks.Add(fallback);
                }
                else
                {
                    errors.Add($"Model '{model.Name}': fallback '{name}' is not an exact model name of the model map.");
                }
            }

            return model with { Fallbacks = fallbacks };
        }).ToList();
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
