using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using MixProxy.Caching;
using MixProxy.Configuration;
using MixProxy.Telemetry;
using MixProxy.Translation;
using MixProxy.Translation.Chat;
using MixProxy.Translation.Errors;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.Streaming;
using MixProxy.Translation.Usage;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace MixProxy.Proxy;

/// <summary>
/// Adds MixProxy's request and response transforms to every route: credential swap, body and path
/// translation on the way up, and response / stream / error translation on the way down. The transforms
/// act on the <see cref="GatewayRequest"/> the middleware prepared, so they never parse the request again.
/// </summary>
internal sealed class GatewayTransformProvider : ITransformProvider
{
    // Upstream bodies the gateway must read whole (non-streaming responses, errors) are capped: a runaway
    // upstream must not exhaust the gateway's memory.
    private const int MaxBufferedResponseBytes = 64 * 1024 * 1024;

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    private readonly ResponseCache _cache;
    private readonly GatewayMetrics _metrics;

    public GatewayTransformProvider(ResponseCache cache, GatewayMetrics metrics)
    {
        _cache = cache;
        _metrics = metrics;
    }

    public void Apply(TransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        // Upstreams are third parties: client addresses stay here.
        context.UseDefaultForwarders = false;
        context.AddRequestTransform(TransformRequestAsync);
        context.AddResponseTransform(async response =>
        {
            ObserveUpstream(response);
            await TransformResponseAsync(response).ConfigureAwait(false);
            ObserveFirstChunk(response);
            RecordForCache(response);
        });
    }

    private static ValueTask TransformRequestAsync(RequestTransformContext context)
    {
        var request = context.HttpContext.Features.GetRequiredFeature<GatewayRequest>();
        var headers = context.ProxyRequest.Headers;

        // :: Step 1: client credentials never travel upstream, nor any header the cluster does not allow.
        headers.Remove("Authorization");
        headers.Remove("x-goog-api-key");
        context.Query.Collection.Remove("key");
        var allowed = request.Config.ForwardHeaders.GetValueOrDefault(request.Model.ClusterId) ?? HeaderAllowList.Default;
        // NonValidated: only the names are needed, so no header value is parsed just to be looked at.
        List<string>? refused = null;
        foreach (var header in headers.NonValidated)
        {
            if (!allowed.Allows(header.Key))
            {
                (refused ??= []).Add(header.Key);
            }
        }

        foreach (var header in refused ?? [])
        {
            headers.Remove(header);
        }

        // :: Step 2: the cluster's own credential, from the environment.
        var credential = request.Config.Credentials.GetValueOrDefault(request.Model.ClusterId);
        switch (credential?.Kind)
        {
            case UpstreamAuthKind.Bearer:
                headers.Authorization = new AuthenticationHeaderValue("Bearer", credential.Secret);
                break;
            case UpstreamAuthKind.GoogApiKey:
                headers.TryAddWithoutValidation("x-goog-api-key", credential.Secret);
                break;
        }

        request.Telemetry.UpstreamSentAt = System.Diagnostics.Stopwatch.GetTimestamp();

        // :: Step 3: the body and the path the upstream expects.
        // The gateway reads every response (usage for limits and metrics, translation, output.text), so they must
        // arrive uncompressed.
        headers.AcceptEncoding.Clear();

        if (request.UpstreamBody is { } body)
        {
            // The middleware consumed the client's body; YARP sends whatever Request.Body holds now.
            request.UpstreamBody = null;
            context.HttpContext.Request.Body = new SendOnceBodyStream(body);
            context.ProxyRequest.Content!.Headers.ContentLength = body.Length;
            context.ProxyRequest.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        if (request.UpstreamPath is { } path)
        {
            context.Path = path;
            if (request.Translates)
            {
                context.Query.Collection.Clear();
                if (request.Stream && request.UpstreamProtocol == ApiProtocol.Gemini)
                {
                    // Without alt=sse Gemini streams one JSON array instead of events.
                    context.Query.Collection[GeminiEndpoint.SseQuery.Name] = GeminiEndpoint.SseQuery.Value;
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask TransformResponseAsync(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { } upstream)
        {
            return; // no response: the middleware writes the error in the client's protocol
        }

        var request = context.HttpContext.Features.GetRequiredFeature<GatewayRequest>();
        var response = context.HttpContext.Response;
        var success = upstream.IsSuccessStatusCode;

        if (!request.Translates)
        {
            if (success && !request.Stream)
            {
                var original = await ReadCappedAsync(upstream.Content, context.CancellationToken).ConfigureAwait(false);
                var contentType = upstream.Content.Headers.ContentType?.ToString() ?? "application/json";
                var buffer = request.AddsOutputText ? new ArrayBufferWriter<byte>(original.Length + 256) : null;
                var rewritten = UntranslatedResponse.Read(original, request.ClientProtocol, buffer, out var usage);
                request.Usage.Usage = usage;
                if (rewritten)
                {
                    Replace(context, buffer!.WrittenMemory, contentType);
                }
                else
                {
                    Replace(context, original, contentType);
                }
            }
            else if (success && request.Stream && request.ClientProtocol == ApiProtocol.OpenAIChat)
            {
                // OpenAI reports usage in its own chunk, which the gateway may have asked for on the client's behalf.
                var inner = await upstream.Content.ReadAsStreamAsync(context.CancellationToken).ConfigureAwait(false);
                var filter = new ChatStreamUsageFilter(request.Usage, dropUsageChunk: !request.IncludeUsage);
                request.StreamFaulted = () => filter.Faulted;
                upstream.Content = new StreamContent(new TranslatingSseStream(inner, filter, context.HttpContext.RequestAborted));
            }
            else if (success && request.Stream)
            {
                // Count the tokens of an untranslated Gemini stream (SSE or JSON array) without touching a byte of it.
                var inner = await upstream.Content.ReadAsStreamAsync(context.CancellationToken).ConfigureAwait(false);
                var tap = new UsageTapStream(inner, request.ClientProtocol, request.Usage);
                request.StreamFaulted = () => tap.Faulted;
                upstream.Content = new StreamContent(tap);
            }

            return;
        }

        if (request.ClientProtocol == ApiProtocol.Gemini)
        {
            await TranslateChatResponseForGeminiClientAsync(context, request, success).ConfigureAwait(false);
            return;
        }

        // OpenAI client, Gemini upstream.
        if (!success)
        {
            var errorBody = await ReadCappedAsync(upstream.Content, context.CancellationToken).ConfigureAwait(false);
            var error = GeminiErrorTranslator.ToOpenAI((int)upstream.StatusCode, errorBody);
            response.StatusCode = error.StatusCode;
            if (error.RetryAfter is { } retry)
            {
                response.Headers.RetryAfter = Math.Ceiling(retry.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            }

            Replace(context, error.Body, "application/json");
            return;
        }

        var responseContext = new ResponseContext
        {
            ClientModel = request.RequestedModel,
            Created = request.Created,
            IncludeOutputText = request.Route.OutputText,
            IncludeUsage = request.IncludeUsage,
            SearchGrounding = request.SearchGrounding,
        };

        if (request.Stream && upstream.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            // Asked for SSE, got something else: translating it as an empty stream would hide the fault.
            response.StatusCode = 502;
            Replace(context, ErrorBodies.OpenAI($"The upstream answered a streaming request with '{upstream.Content.Headers.ContentType?.MediaType ?? "no content type"}' instead of text/event-stream.", "upstream_error", null, "bad_upstream_response"), "application/json");
            return;
        }

        if (request.Stream)
        {
            var upstreamBody = await upstream.Content.ReadAsStreamAsync(context.CancellationToken).ConfigureAwait(false);
            UseTranslatedStream(context, request, upstreamBody, new GeminiToChatStreamTranslator(responseContext, request.Usage, request.IssuedSignatures), "text/event-stream; charset=utf-8");
            response.Headers.CacheControl = "no-cache";
            return;
        }

        await TranslateWholeResponseAsync(
            context,
            request,
            (body, output) => GeminiToChatResponseTranslator.Translate(body, responseContext, output, request.IssuedSignatures),
            reason => ErrorBodies.OpenAI("The upstream returned a response that is not valid Gemini JSON: " + reason, "upstream_error", null, "bad_upstream_response")).ConfigureAwait(false);
    }

    /// <summary>Gemini client, OpenAI upstream: errors, whole responses and streams (SSE or JSON array, as the client asked).</summary>
    private async Task TranslateChatResponseForGeminiClientAsync(ResponseTransformContext context, GatewayRequest request, bool success)
    {
        var upstream = context.ProxyResponse!;
        var response = context.HttpContext.Response;
        if (!success)
        {
            var errorBody = await ReadCappedAsync(upstream.Content, context.CancellationToken).ConfigureAwait(false);
            response.StatusCode = ChatToGeminiResponseTranslator.ErrorStatus((int)upstream.StatusCode);
            Replace(context, ChatToGeminiResponseTranslator.TranslateError((int)upstream.StatusCode, errorBody), "application/json");
            return;
        }

        var responseContext = new ResponseContext { ClientModel = request.RequestedModel, Created = request.Created, IncludeOutputText = request.Route.OutputText };
        if (request.Stream)
        {
            if (upstream.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                response.StatusCode = 502;
                Replace(context, ErrorBodies.Google(502, "The upstream answered a streaming request without text/event-stream."), "application/json");
                return;
            }

            // Google serves SSE with ?alt=sse and one streamed JSON array without it; the client gets what it asked for.
            var sse = context.HttpContext.Request.Query[GeminiEndpoint.SseQuery.Name] == GeminiEndpoint.SseQuery.Value;
            var upstreamBody = await upstream.Content.ReadAsStreamAsync(context.CancellationToken).ConfigureAwait(false);
            UseTranslatedStream(context, request, upstreamBody, new ChatToGeminiStreamTranslator(responseContext, sse, request.Usage), sse ? "text/event-stream" : "application/json; charset=UTF-8");
            return;
        }

        await TranslateWholeResponseAsync(
            context,
            request,
            (body, output) => ChatToGeminiResponseTranslator.Translate(body, responseContext, output),
            reason => ErrorBodies.Google(502, "The upstream returned a response that is not valid Chat Completions JSON: " + reason)).ConfigureAwait(false);
    }

    /// <summary>Reads a whole upstream response, translates it (measured) or answers 502 in the client's shape when it cannot be read.</summary>
    private async Task TranslateWholeResponseAsync(ResponseTransformContext context, GatewayRequest request, Func<byte[], ArrayBufferWriter<byte>, TokenUsage?> translate, Func<string, byte[]> badUpstream)
    {
        var body = await ReadCappedAsync(context.ProxyResponse!.Content, context.CancellationToken).ConfigureAwait(false);
        var output = new ArrayBufferWriter<byte>(body.Length + 512);
        var direction = new KeyValuePair<string, object?>("mixproxy.translation.direction", "response");
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            request.Usage.Usage = translate(body, output);
            _metrics.TranslationDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, direction);
            _metrics.TranslationBytes.Record(output.WrittenCount, direction);
            Replace(context, output.WrittenMemory, "application/json");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            _metrics.TranslationErrors.Add(1, direction, new KeyValuePair<string, object?>("error.type", "bad_upstream_response"));
            context.HttpContext.Response.StatusCode = 502;
            Replace(context, badUpstream(e.Message), "application/json");
        }
    }

    /// <summary>Replaces the upstream body with its translation, event by event, and wires the stream's telemetry.</summary>
    private static void UseTranslatedStream(ResponseTransformContext context, GatewayRequest request, Stream upstreamBody, IStreamEventTranslator translator, string contentType)
    {
        request.StreamFaulted = () => translator.Faulted;
        var translating = new TranslatingSseStream(upstreamBody, translator, context.HttpContext.RequestAborted);
        request.Telemetry.StreamTranslated = true;
        request.Telemetry.StreamStats = () => (translating.TranslationTicks, translating.TranslatedBytes);
        context.ProxyResponse!.Content = new StreamContent(translating);
        context.HttpContext.Response.Headers.ContentLength = null;
        context.HttpContext.Response.Headers.ContentType = contentType;
    }

    /// <summary>Upstream time to first byte and status, per cluster and destination.</summary>
    private void ObserveUpstream(ResponseTransformContext context)
    {
        var request = context.HttpContext.Features.GetRequiredFeature<GatewayRequest>();
        var telemetry = request.Telemetry;
        telemetry.UpstreamHeadersAt = System.Diagnostics.Stopwatch.GetTimestamp();
        telemetry.UpstreamStatus = context.ProxyResponse is { } response ? (int)response.StatusCode : 0;
        var cluster = new KeyValuePair<string, object?>("mixproxy.cluster", request.Model.ClusterId);
        var destination = new KeyValuePair<string, object?>("mixproxy.destination", context.HttpContext.GetReverseProxyFeature().ProxiedDestination?.DestinationId ?? "none");
        _metrics.UpstreamResponses.Add(1, cluster, destination, new KeyValuePair<string, object?>("http.response.status_code", telemetry.UpstreamStatus));
        if (telemetry.UpstreamSentAt != 0 && context.ProxyResponse is not null)
        {
            _metrics.UpstreamTimeToFirstByte.Record(GatewayMetrics.Seconds(telemetry.UpstreamSentAt, telemetry.UpstreamHeadersAt), cluster, destination);
        }
    }

    /// <summary>Streams: notes when the first chunk leaves for the client (time to first token).</summary>
    private static void ObserveFirstChunk(ResponseTransformContext context)
    {
        var request = context.HttpContext.Features.GetRequiredFeature<GatewayRequest>();
        if (!request.Stream || context.ProxyResponse is not { } upstream || context.HttpContext.Response.StatusCode != 200)
        {
            return;
        }

        var telemetry = request.Telemetry;
        var inner = upstream.Content.ReadAsStream(context.CancellationToken);
        upstream.Content = new StreamContent(new FirstDataStream(inner, () => telemetry.FirstChunkAt = System.Diagnostics.Stopwatch.GetTimestamp()));
    }

    /// <summary>On a cache miss, keeps a copy of a successful response as the client receives it, and stores it once complete.</summary>
    private void RecordForCache(ResponseTransformContext context)
    {
        var request = context.HttpContext.Features.GetRequiredFeature<GatewayRequest>();
        if (request.CacheKey is not { } key || context.ProxyResponse is not { } upstream || context.HttpContext.Response.StatusCode != 200)
        {
            return;
        }

        var contentType = context.HttpContext.Response.ContentType ?? "application/json";
        var inner = upstream.Content.ReadAsStream(context.CancellationToken);
        upstream.Content = new StreamContent(new RecordingStream(
            inner,
            request.StreamFaulted,
            body => _ = _cache.SetAsync(key, new CachedResponse(contentType, body.ToArray()), request.CacheTtl)));
    }

    private static void Replace(ResponseTransformContext context, ReadOnlyMemory<byte> body, string contentType)
    {
        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        context.ProxyResponse!.Content = content;
        context.HttpContext.Response.Headers.ContentLength = body.Length;
        context.HttpContext.Response.Headers.ContentType = contentType;
        context.HttpContext.Response.Headers.ContentEncoding = default;
    }

    private static async Task<byte[]> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > MaxBufferedResponseBytes)
        {
            throw new InvalidOperationException($"Upstream response larger than {MaxBufferedResponseBytes} bytes.");
        }

        using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        if (content.Headers.ContentLength is { } length)
        {
            // The usual case: one array of the declared size, filled in place (SocketsHttpHandler enforces the length).
            var exact = new byte[length];
            await stream.ReadExactlyAsync(exact, cancellationToken).ConfigureAwait(false);
            return exact;
        }

        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxBufferedResponseBytes)
                {
                    throw new InvalidOperationException($"Upstream response larger than {MaxBufferedResponseBytes} bytes.");
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}
