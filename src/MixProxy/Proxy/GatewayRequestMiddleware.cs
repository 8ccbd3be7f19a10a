using System.Buffers;
using System.Text.Json;
using MixProxy.Auth;
using MixProxy.Configuration;
using MixProxy.Routing;
using MixProxy.Translation;
using MixProxy.Translation.Chat;
using MixProxy.Translation.Gemini;
using Yarp.ReverseProxy;

namespace MixProxy.Proxy;

/// <summary>
/// Runs in YARP's proxy pipeline, before load balancing: authenticates the client key, reads the model
/// (from the body once, or from the URL), resolves it in the model map, checks the key may use it and
/// points the request at the model's cluster. Everything it learns goes into a <see cref="GatewayRequest"/>.
/// </summary>
internal sealed partial class GatewayRequestMiddleware(
    RequestDelegate next,
    GatewayConfigStore store,
    IProxyStateLookup proxyState,
    TimeProvider time,
    ILogger<GatewayRequestMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
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
            return;
        }

        using var request = await ReadRequestAsync(context, config, route, key).ConfigureAwait(false);
        if (request is null)
        {
            return;
        }

        context.Features.Set(request);
        await next(context).ConfigureAwait(false);

        var error = context.GetForwarderErrorFeature();
        if (error is not null && !context.Response.HasStarted)
        {
            var status = context.Response.StatusCode is >= 400 ? context.Response.StatusCode : 502;
            LogForwardFailed(logger, request.Model.ClusterId, error.Error.ToString());
            await ClientErrors.WriteAsync(context, protocol, status, $"The upstream for model '{request.RequestedModel}' could not be reached ({error.Error}).").ConfigureAwait(false);
        }
    }

    private async Task<GatewayRequest?> ReadRequestAsync(HttpContext context, GatewaySnapshot config, RouteSettings route, ClientKey key)
    {
        var protocol = route.Api.Protocol();
        string model;
        bool stream;
        var includeUsage = false;
        JsonDocument? body = null;
        ReadOnlyMemory<byte> raw = default;

        if (route.Api == ClientApi.OpenAIChat)
        {
            try
            {
                using var buffer = new MemoryStream();
                await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
                raw = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
                body = JsonDocument.Parse(raw);
                var facts = ChatRequestFacts.Read(body.RootElement);
                (model, stream, includeUsage) = (facts.Model, facts.Stream, facts.IncludeUsage);
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
        }
        else
        {
            model = context.Request.RouteValues["model"]?.ToString() ?? string.Empty;
            stream = route.Api == ClientApi.GeminiStreamGenerateContent;
        }

        var entry = config.Models.Resolve(model);
        if (entry is null)
        {
            body?.Dispose();
            var message = protocol == ApiProtocol.Gemini
                ? $"models/{model} is not found for API version {context.Request.RouteValues["version"]}, or is not served by this gateway."
                : $"The model '{model}' does not exist or is not served by this gateway.";
            await ClientErrors.WriteAsync(context, protocol, 404, message, "model", "model_not_found").ConfigureAwait(false);
            return null;
        }

        if (!key.MayUse(model))
        {
            body?.Dispose();
            await ClientErrors.WriteAsync(context, protocol, 403, $"API key '{key.Name}' may not use model '{model}'.", "model", "model_not_allowed").ConfigureAwait(false);
            return null;
        }

        var upstreamProtocol = entry.UpstreamProtocolFor(protocol);
        if (protocol == ApiProtocol.Gemini && upstreamProtocol == ApiProtocol.OpenAIChat)
        {
            body?.Dispose();
            await ClientErrors.WriteAsync(context, protocol, 501, $"Model '{model}' is served by an OpenAI-protocol upstream; Gemini-protocol clients cannot use it through this gateway yet.").ConfigureAwait(false);
            return null;
        }

        if (!proxyState.TryGetCluster(entry.ClusterId, out var cluster))
        {
            body?.Dispose();
            await ClientErrors.WriteAsync(context, protocol, 503, $"The cluster for model '{model}' is not available yet; retry.").ConfigureAwait(false);
            return null;
        }

        var upstreamModel = entry.UpstreamModel ?? model;
        // NOTE: the cast matters: a bare null would convert to an *empty* ReadOnlyMemory through its array operator.
        ReadOnlyMemory<byte>? upstreamBody = body is null ? (ReadOnlyMemory<byte>?)null : raw;
        string? upstreamPath = null;
        if (protocol == ApiProtocol.OpenAIChat && upstreamProtocol == ApiProtocol.Gemini)
        {
            var translated = new ArrayBufferWriter<byte>(raw.Length + 256);
            try
            {
                ChatToGeminiRequestTranslator.Translate(body!.RootElement, entry.ProfileFor(model), translated);
            }
            catch (TranslationException e)
            {
                body?.Dispose();
                await ClientErrors.WriteAsync(context, protocol, e.StatusCode, e.Message, e.Param).ConfigureAwait(false);
                return null;
            }

            upstreamBody = translated.WrittenMemory;
            upstreamPath = GeminiEndpoint.Path(upstreamModel, stream ? GeminiEndpoint.StreamGenerateContent : GeminiEndpoint.GenerateContent);
        }
        else if (upstreamModel != model && protocol == ApiProtocol.OpenAIChat)
        {
            var rewritten = new ArrayBufferWriter<byte>(raw.Length + 64);
            ChatRequestRewriter.ReplaceModel(body!.RootElement, upstreamModel, rewritten);
            upstreamBody = rewritten.WrittenMemory;
        }
        else if (upstreamModel != model)
        {
            upstreamPath = GeminiEndpoint.Path(upstreamModel, route.Api.GeminiMethod(), context.Request.RouteValues["version"]?.ToString() ?? "v1beta");
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
            Body = body,
            UpstreamBody = upstreamBody,
            UpstreamPath = upstreamPath,
            Created = time.GetUtcNow().ToUnixTimeSeconds(),
        };
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Forwarding to cluster {Cluster} failed: {Error}.")]
    private static partial void LogForwardFailed(ILogger logger, string cluster, string error);
}
