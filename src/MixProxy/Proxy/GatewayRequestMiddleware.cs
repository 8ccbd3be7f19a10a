using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using MixProxy.Auth;
using MixProxy.Caching;
using MixProxy.Configuration;
using MixProxy.RateLimiting;
using MixProxy.Telemetry;
using MixProxy.Routing;
using MixProxy.Translation;
using MixProxy.Translation.Chat;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Usage;
using Yarp.ReverseProxy;

namespace MixProxy.Proxy;

/// <summary>
/// Runs in YARP's proxy pipeline, before load balancing: authenticates the client key, reads the model
/// (from the body once, or from the URL), resolves it in the model map, checks the key may use it,
/// translates the body when needed, admits the request against the key's limits and points it at the
/// model's cluster. Everything it learns goes into a <see cref="GatewayRequest"/>; after the response it
/// settles the key's token reservation with the real usage.
/// </summary>
internal sealed partial class GatewayRequestMiddleware(
    RequestDelegate next,
    GatewayConfigStore store,
    IProxyStateLookup proxyState,
    GatewayRateLimiter limiter,
    ResponseCache cache,
    ThoughtSignatureCache signatures,
    GatewayMetrics metrics,
    TelemetryOptions telemetryOptions,
    TimeProvider time,
    ILogger<GatewayRequestMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var telemetry = new RequestTelemetry(Stopwatch.GetTimestamp());
        var config = store.Current;
        var routeId = context.GetReverseProxyFeature().Route.Config.RouteId;
        if (!config.RouteSettings.TryGetValue(routeId, out var route))
        {
            // The route came from a generation that was just replaced; the client can simply retry.
            await ClientErrors.WriteAsync(context, ClientErrors.GuessProtocol(context.Request), 503, "The gateway configuration changed while this request arrived; retry.").ConfigureAwait(false);
            return;
        }

        var protocol = route.Api.Protocol();
        var key = ClientKeyAuthenticator.Authenticate(context.Request, config);
        if (key is null)
        {
            var message = ClientKeyAuthenticator.ReadPresentedKey(context.Request) is null
                ? "Missing API key: send it as 'Authorization: Bearer <key>', 'x-goog-api-key' or '?key='."
                : "Invalid API key.";
            await ClientErrors.WriteAsync(context, protocol, 401, message, openAICode: "invalid_api_key").ConfigureAwait(false);
            RecordRefused(context, route, telemetry);
            return;
        }

        var request = await ReadRequestAsync(context, route, key, telemetry).ConfigureAwait(false);
        if (request is null)
        {
            RecordRefused(context, route, telemetry);
            return;
        }

        context.Features.Set(request);
        var upstreamFailed = true;
        try
        {
            if (request.CacheKey is not null && await cache.GetAsync(request.CacheKey, context.RequestAborted).ConfigureAwait(false) is { } hit)
            {
                // A replay costs the upstream nothing: the token reservation is refunded in full.
                request.Usage.Usage = TokenUsage.None;
                upstreamFailed = false;
                metrics.CacheLookups.Add(1, new KeyValuePair<string, object?>("mixproxy.cache.result", "hit"));
                context.Response.StatusCode = 200;
                context.Response.ContentType = hit.ContentType;
                context.Response.Headers[CacheHeader] = "hit";
                await context.Response.Body.WriteAsync(hit.Body, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            if (request.CacheKey is not null)
            {
                context.Response.Headers[CacheHeader] = "miss";
                metrics.CacheLookups.Add(1, new KeyValuePair<string, object?>("mixproxy.cache.result", "miss"));
            }

            await next(context).ConfigureAwait(false);
            var error = context.GetForwarderErrorFeature();
            // A stream cut after its headers went out did reach the model: keep its reservation (see SettleAsync).
            upstreamFailed = (error is not null && !context.Response.HasStarted) || context.Response.StatusCode >= 400;
            if (error is not null && !context.Response.HasStarted)
            {
                var status = context.Response.StatusCode is >= 400 ? context.Response.StatusCode : 502;
                LogForwardFailed(logger, request.Model.ClusterId, error.Error.ToString());
                await ClientErrors.WriteAsync(context, protocol, status, $"The upstream for model '{request.RequestedModel}' could not be reached ({error.Error}).").ConfigureAwait(false);
            }
        }
        finally
        {
            // Settle even when the client went away: the reservation must not stay charged (or be lost) silently.
            await limiter.SettleAsync(request.RateLimit, request.Usage.Usage, upstreamFailed, CancellationToken.None).ConfigureAwait(false);
            if (request.IssuedSignatures.Items.Count > 0)
            {
                await signatures.RememberAsync(request.Key.Hash, request.IssuedSignatures).ConfigureAwait(false);
            }

            RecordCompletion(context, request);
        }
    }

    private async Task<GatewayRequest?> ReadRequestAsync(HttpContext context, RouteSettings route, ClientKey key, RequestTelemetry telemetry)
    {
        var protocol = route.Api.Protocol();
        string model;
        var stream = route.Api == ClientApi.GeminiStreamGenerateContent;
        var includeUsage = false;

        // Chat Completions bodies are read for the model name; Gemini bodies only when the key's token limits
        // need their size and output cap. Otherwise a Gemini body streams upstream untouched.
        var readBody = route.Api == ClientApi.OpenAIChat || key.Limits.HasTokenLimits || WantsCache(context, route, key)
            || (context.Request.RouteValues["model"]?.ToString() is { } urlModel
                && store.Current.Models.Resolve(urlModel)?.UpstreamProtocolFor(ApiProtocol.Gemini) == ApiProtocol.OpenAIChat);
        JsonDocument? body = null;
        ReadOnlyMemory<byte> raw = default;
        try
        {
            if (readBody)
            {
                raw = await ReadBodyAsync(context).ConfigureAwait(false);
                body = raw.Length == 0 && route.Api != ClientApi.OpenAIChat ? null : JsonDocument.Parse(raw);
            }

            if (route.Api == ClientApi.OpenAIChat)
            {
                var facts = ChatRequestFacts.Read(body!.RootElement);
                (model, stream, includeUsage) = (facts.Model, facts.Stream, facts.IncludeUsage);
            }
            else
            {
                model = context.Request.RouteValues["model"]?.ToString() ?? string.Empty;
            }
        }
        catch (BadHttpRequestException e)
        {
            body?.Dispose();
            await ClientErrors.WriteAsync(context, protocol, e.StatusCode, "The request body could not be read: " + e.Message).ConfigureAwait(false);
            return null;
        }
        catch (JsonException e)
        {
            body?.Dispose();
            await ClientErrors.WriteAsync(context, protocol, 400, "The request body is not valid JSON: " + e.Message).ConfigureAwait(false);
            return null;
        }
        catch (TranslationException e)
        {
            body?.Dispose();
            await ClientErrors.WriteAsync(context, protocol, e.StatusCode, e.Message, e.Param).ConfigureAwait(false);
            return null;
        }

        // The snapshot is taken after the (possibly slow) body upload, so the model map, the credentials and the
        // live cluster below all come from the same generation. The parsed body is done with once the upstream body
        // is prepared; disposing it here returns its pooled buffers before a stream holds the request open for minutes.
        try
        {
            return await PrepareAsync(context, store.Current, route, key, model, stream, includeUsage, body, raw, telemetry).ConfigureAwait(false);
        }
        finally
        {
            body?.Dispose();
        }
    }

    private async Task<GatewayRequest?> PrepareAsync(
        HttpContext context, GatewaySnapshot config, RouteSettings route, ClientKey key, string model, bool stream, bool includeUsage, JsonDocument? body, ReadOnlyMemory<byte> raw, RequestTelemetry telemetry)
    {
        var protocol = route.Api.Protocol();
        if (!ModelMap.IsValidName(model))
        {
            await ClientErrors.WriteAsync(context, protocol, 400, "The model name may only use letters, digits and . _ - : / @ + (at most 200 characters, no '..').", "model").ConfigureAwait(false);
            return null;
        }

        var entry = config.Models.Resolve(model);
        if (entry is null)
        {
            var message = protocol == ApiProtocol.Gemini
                ? $"models/{model} is not found for API version {context.Request.RouteValues["version"]}, or is not served by this gateway."
                : $"The model '{model}' does not exist or is not served by this gateway.";
            await ClientErrors.WriteAsync(context, protocol, 404, message, "model", "model_not_found").ConfigureAwait(false);
            return null;
        }

        if (!key.MayUse(model))
        {
            await ClientErrors.WriteAsync(context, protocol, 403, $"API key '{key.Name}' may not use model '{model}'.", "model", "model_not_allowed").ConfigureAwait(false);
            return null;
        }

        var upstreamProtocol = entry.UpstreamProtocolFor(protocol);
        if (route.Api == ClientApi.GeminiCountTokens && upstreamProtocol == ApiProtocol.OpenAIChat)
        {
            await ClientErrors.WriteAsync(context, protocol, 501, $"Model '{model}' is served by an OpenAI-protocol upstream, which has no token-counting endpoint.").ConfigureAwait(false);
            return null;
        }

        if (!proxyState.TryGetCluster(entry.ClusterId, out var cluster)
            || !config.Clusters.Any(c => c.ClusterId == entry.ClusterId && c.Equals(cluster.Model.Config)))
        {
            // YARP and the snapshot disagree for a moment during a reload: never send one generation's
            // credential to another generation's destination.
            await ClientErrors.WriteAsync(context, protocol, 503, $"The cluster for model '{model}' is not available yet; retry.").ConfigureAwait(false);
            return null;
        }

        telemetry.Describe(route.Api, upstreamProtocol, entry, model, stream);

        // :: The body and path the upstream gets.
        var upstreamModel = entry.UpstreamModel ?? model;

        // NOTE: the cast matters: a bare null would convert to an *empty* ReadOnlyMemory through its array operator.
        ReadOnlyMemory<byte>? upstreamBody = body is null ? (ReadOnlyMemory<byte>?)null : raw;
        string? upstreamPath = null;
        var searchGrounding = false;
        if (protocol == ApiProtocol.OpenAIChat && upstreamProtocol == ApiProtocol.Gemini)
        {
            // Signatures the client dropped (SDKs that rebuild the history from their own types) come from the cache.
            var unsigned = ChatToGeminiRequestTranslator.UnsignedToolCallIds(body!.RootElement).Distinct(StringComparer.Ordinal).TakeLast(ThoughtSignatureCache.MaxLookups).ToList();
            var known = unsigned.Count == 0 ? null : await signatures.RecallAsync(key.Hash, unsigned, context.RequestAborted).ConfigureAwait(false);
            upstreamBody = await TranslateRequestAsync(context, protocol, raw.Length, output => searchGrounding = ChatToGeminiRequestTranslator.Translate(body.RootElement, entry.ProfileFor(model), output, known).GoogleSearch).ConfigureAwait(false);
            if (upstreamBody is null)
            {
                return null;
            }

            upstreamPath = GeminiEndpoint.Path(upstreamModel, stream ? GeminiEndpoint.StreamGenerateContent : GeminiEndpoint.GenerateContent);
        }
        else if (protocol == ApiProtocol.Gemini && upstreamProtocol == ApiProtocol.OpenAIChat)
        {
            if (body is null)
            {
                await ClientErrors.WriteAsync(context, protocol, 400, "The request body is empty.").ConfigureAwait(false);
                return null;
            }

            upstreamBody = await TranslateRequestAsync(context, protocol, raw.Length, output => GeminiToChatRequestTranslator.Translate(body.RootElement, entry.ProfileFor(model), stream, output)).ConfigureAwait(false);
            if (upstreamBody is null)
            {
                return null;
            }

            upstreamPath = ChatEndpoint.Path;
        }
        else if (protocol == ApiProtocol.OpenAIChat && (upstreamModel != model || (stream && !includeUsage)))
        {
            // Limits and metrics need every stream's usage; the usage chunk the gateway asks for is removed again on the way back.
            var rewritten = new ArrayBufferWriter<byte>(raw.Length + 64);
            ChatRequestRewriter.Rewrite(body!.RootElement, upstreamModel, requestUsage: stream && !includeUsage, rewritten);
            upstreamBody = rewritten.WrittenMemory;
        }
        else if (upstreamModel != model)
        {
            upstreamPath = GeminiEndpoint.Path(upstreamModel, route.Api.GeminiMethod(), context.Request.RouteValues["version"]?.ToString() ?? "v1beta");
        }

        // :: Admission against the key's limits (after validation: a bad request costs nothing).
        // Counting tokens generates none and reports no usage to settle with: it reserves nothing (it still counts as a request).
        var counting = route.Api == ClientApi.GeminiCountTokens;
        var bodyBytes = counting ? 0 : body is not null ? raw.Length : context.Request.ContentLength ?? 0;
        var maxOutput = counting ? 0 : body is null ? null : UsageReader.MaxOutputTokens(body.RootElement, protocol);
        var ticket = await limiter.AdmitAsync(key, entry, model, bodyBytes, maxOutput, context.RequestAborted).ConfigureAwait(false);
        if (ticket.Admission is not null)
        {
            var outcome = ticket.Result.Allowed ? "allowed" : ticket.Result.DeniedBy is null ? "unavailable" : "denied";
            var limit = ticket.Result.DeniedBy?.ToString().ToLowerInvariant() ?? "none";
            metrics.LimiterDecisions.Add(
                1,
                new KeyValuePair<string, object?>("mixproxy.limiter.outcome", outcome),
                new KeyValuePair<string, object?>("mixproxy.limiter.limit", limit),
                new KeyValuePair<string, object?>("mixproxy.limiter.degraded", ticket.Result.Degraded));
        }
        if (!ticket.Result.Allowed)
        {
            await RefuseAsync(context, protocol, key, ticket.Result).ConfigureAwait(false);
            return null;
        }

        if (ticket.Result.States.Count > 0)
        {
            context.Response.OnStarting(() =>
            {
                RateLimitHeaders.Apply(context.Response.Headers, ticket.Result);
                return Task.CompletedTask;
            });
        }

        string? cacheKey = null;
        if (WantsCache(context, route, key) && upstreamBody is { } cacheable)
        {
            // Exact match on the canonical upstream request: the same question to the same upstream.
            var scope = key.Cache == CacheSharing.Shared ? "shared" : key.Hash;
            var framing = $"{route.Api}:{route.OutputText}:{context.Request.RouteValues["version"]}:{context.Request.Query[GeminiEndpoint.SseQuery.Name]}";
            cacheKey = ResponseCache.Key(scope, entry.ClusterId, framing, upstreamPath ?? upstreamModel, stream, includeUsage, Canonical(cacheable, upstreamPath is not null));
        }

        context.ReassignProxyRequest(cluster);
        return new GatewayRequest
        {
            Config = config,
            Route = route,
            Key = key,
            RequestedModel = model,
            Model = entry,
            UpstreamProtocol = upstreamProtocol,
            Stream = stream,
            IncludeUsage = includeUsage,
            SearchGrounding = searchGrounding,
            UpstreamBody = upstreamBody,
            UpstreamPath = upstreamPath,
            Created = time.GetUtcNow().ToUnixTimeSeconds(),
            RateLimit = ticket,
            Telemetry = telemetry,
            CacheKey = cacheKey,
            CacheTtl = route.CacheTtl ?? RouteSettings.DefaultCacheTtl,
        };
    }

    /// <summary>Runs a request translator, measuring it; an untranslatable request is answered with its 400 (null returned).</summary>
    private async Task<ReadOnlyMemory<byte>?> TranslateRequestAsync(HttpContext context, ApiProtocol protocol, int sizeHint, Action<ArrayBufferWriter<byte>> translate)
    {
        var direction = new KeyValuePair<string, object?>("mixproxy.translation.direction", "request");
        var translated = new ArrayBufferWriter<byte>(sizeHint + 256);
        var started = Stopwatch.GetTimestamp();
        try
        {
            translate(translated);
        }
        catch (TranslationException e)
        {
            metrics.TranslationErrors.Add(1, direction, new KeyValuePair<string, object?>("error.type", "invalid_request"));
            await ClientErrors.WriteAsync(context, protocol, e.StatusCode, e.Message, e.Param).ConfigureAwait(false);
            return null;
        }

        metrics.TranslationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, direction);
        metrics.TranslationBytes.Record(translated.WrittenCount, direction);
        return translated.WrittenMemory;
    }

    /// <summary>
    /// Requests the gateway answered itself (bad key, unknown model, refused input, 429…) count in the client-view
    /// duration too, so error-rate panels and alerts see them; their model labels are "none" (nothing was resolved).
    /// </summary>
    private void RecordRefused(HttpContext context, RouteSettings route, RequestTelemetry telemetry)
    {
        var tags = new TagList
        {
            { "gen_ai.operation.name", route.Api == ClientApi.OpenAIChat ? "chat" : route.Api == ClientApi.GeminiCountTokens ? "count_tokens" : "generate_content" },
            { "gen_ai.provider.name", "none" },
            { "gen_ai.request.model", "none" },
            { "gen_ai.response.model", "none" },
            { "mixproxy.stream", false },
            { "http.response.status_code", context.Response.StatusCode },
        };
        metrics.ServerRequestDuration.Record(Stopwatch.GetElapsedTime(telemetry.ArrivedAt).TotalSeconds, tags);
    }

    // Boxed once: a bool tag value would otherwise allocate on every request.
    private static readonly KeyValuePair<string, object?> TranslatedTag = new("mixproxy.translated", true);
    private static readonly KeyValuePair<string, object?> UntranslatedTag = new("mixproxy.translated", false);

    /// <summary>Turns the request's timestamps and usage into metrics, once, when it is over.</summary>
    private void RecordCompletion(HttpContext context, GatewayRequest request)
    {
        var t = request.Telemetry;
        var end = Stopwatch.GetTimestamp();
        var tags = t.Tags;
        var total = GatewayMetrics.Seconds(t.ArrivedAt, end);
        var status = tags; // TagList is a value type: copies do not share their first eight tags
        status.Add("http.response.status_code", context.Response.StatusCode);
        metrics.ServerRequestDuration.Record(total, status);

        var upstream = t.UpstreamSentAt == 0 ? 0 : GatewayMetrics.Seconds(t.UpstreamSentAt, end);
        if (t.UpstreamSentAt != 0)
        {
            var upstreamTags = tags;
            if (t.UpstreamStatus is 0 or >= 400)
            {
                upstreamTags.Add("error.type", t.UpstreamStatus == 0 ? "no_response" : t.UpstreamStatus.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            metrics.OperationDuration.Record(upstream, upstreamTags);
        }

        metrics.GatewayOverhead.Record(Math.Max(0, total - upstream), new KeyValuePair<string, object?>("gen_ai.operation.name", t.OperationName), request.Translates ? TranslatedTag : UntranslatedTag);

        if (request.Usage.Usage is { } usage && usage.Total > 0)
        {
            void Tokens(string type, long count)
            {
                var tokenTags = tags;
                tokenTags.Add("gen_ai.token.type", type);
                if (telemetryOptions.KeyLabels)
                {
                    tokenTags.Add("mixproxy.key", request.Key.Name);
                }

                metrics.TokenUsage.Record(count, tokenTags);
            }

            Tokens("input", usage.Input);
            Tokens("output", usage.Output);
            if (usage.Reasoning > 0)
            {
                Tokens("reasoning", usage.Reasoning);
            }

            if (usage.Cached > 0)
            {
                Tokens("cached", usage.Cached);
            }

            if (request.Stream && t.FirstChunkAt != 0 && usage.Output > 1)
            {
                metrics.TimePerOutputToken.Record(GatewayMetrics.Seconds(t.FirstChunkAt, end) / (usage.Output - 1), tags);
            }
        }

        if (request.Stream && t.FirstChunkAt != 0)
        {
            metrics.TimeToFirstToken.Record(GatewayMetrics.Seconds(t.ArrivedAt, t.FirstChunkAt), tags);
        }

        if (t.StreamTranslated)
        {
            var direction = new KeyValuePair<string, object?>("mixproxy.translation.direction", "stream");
            var (ticks, bytes) = t.StreamStats();
            metrics.TranslationDuration.Record(ticks / (double)Stopwatch.Frequency, direction);
            metrics.TranslationBytes.Record(bytes, direction);
        }

        if (request.Translates && request.StreamFaulted())
        {
            metrics.TranslationErrors.Add(1, new KeyValuePair<string, object?>("mixproxy.translation.direction", "stream"), new KeyValuePair<string, object?>("error.type", "upstream_error_event"));
        }
    }

    /// <summary>Response-cache opt-in: per route (metadata) or per request (<c>x-mixproxy-cache: on</c>); <c>off</c> always wins.</summary>
    internal const string CacheHeader = "x-mixproxy-cache";

    private static bool WantsCache(HttpContext context, RouteSettings route, ClientKey key)
    {
        if (key.Cache == CacheSharing.Off || route.Api == ClientApi.GeminiCountTokens)
        {
            return false;
        }

        var asked = context.Request.Headers[CacheHeader].ToString();
        return !string.Equals(asked, "off", StringComparison.OrdinalIgnoreCase)
            && (route.Cache || string.Equals(asked, "on", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Bodies the gateway wrote are canonical already; client bodies are re-written compactly so whitespace does not split entries.</summary>
    private static ReadOnlySpan<byte> Canonical(ReadOnlyMemory<byte> body, bool written)
    {
        if (written)
        {
            return body.Span;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var buffer = new ArrayBufferWriter<byte>(body.Length);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                document.RootElement.WriteTo(writer);
            }

            return buffer.WrittenSpan;
        }
        catch (JsonException)
        {
            return body.Span;
        }
    }

    private static Task RefuseAsync(HttpContext context, ApiProtocol protocol, ClientKey key, AdmissionResult result)
    {
        if (result.DeniedBy is null)
        {
            // Redis is down and the limiter is configured to fail closed.
            RateLimitHeaders.ApplyRetryAfter(context.Response.Headers, result.RetryAfter);
            return ClientErrors.WriteAsync(context, protocol, 503, "Rate limits cannot be checked right now (limiter store unavailable); retry shortly.");
        }

        RateLimitHeaders.Apply(context.Response.Headers, result);
        RateLimitHeaders.ApplyRetryAfter(context.Response.Headers, result.RetryAfter);
        var what = result.DeniedBy switch
        {
            LimitKind.Requests => "requests per minute",
            LimitKind.Tokens => "tokens per minute",
            _ => "concurrent requests",
        };
        var seconds = Math.Max(1, (long)Math.Ceiling(result.RetryAfter.TotalSeconds));
        return ClientErrors.WriteAsync(context, protocol, 429, $"Rate limit reached for key '{key.Name}' on {what}. Please try again in {seconds}s.", openAICode: "rate_limit_exceeded");
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context)
    {
        // The declared length only sizes the first buffer, capped: Kestrel enforces the real body limit while reading.
        using var buffer = new MemoryStream((int)Math.Clamp(context.Request.ContentLength ?? 4096, 0, 64 * 1024));
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Forwarding to cluster {Cluster} failed: {Error}.")]
    private static partial void LogForwardFailed(ILogger logger, string cluster, string error);
}
