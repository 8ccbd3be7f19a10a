using System.Buffers;
using MixProxy.Auth;
using MixProxy.Configuration;
using MixProxy.Proxy;
using MixProxy.Translation.Json;

namespace MixProxy.Endpoints;

/// <summary>
/// <c>GET /v1/models</c>, <c>GET /v1beta/models</c> and single-model lookups, answered from the model map:
/// the gateway's catalogue is what it routes, filtered to what the caller's key may use. <c>/v1/models</c> is
/// shared by OpenAI and by Google's v1 API; a Google-style credential selects Google's shape.
/// </summary>
internal static class ModelCatalogEndpoints
{
    public static void MapModelCatalog(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/{version:regex(^(v1|v1beta)$)}/models", ListAsync);
        endpoints.MapGet("/{version:regex(^(v1|v1beta)$)}/models/{model}", GetAsync);
    }

    private static async Task ListAsync(HttpContext context, GatewayConfigStore store)
    {
        var config = store.Current;
        var protocol = ClientErrors.GuessProtocol(context.Request);
        if (ClientKeyAuthenticator.Authenticate(context.Request, config) is not { } key)
        {
            await ClientErrors.WriteAsync(context, protocol, 401, "Missing or invalid API key.", openAICode: "invalid_api_key").ConfigureAwait(false);
            return;
        }

        var buffer = new ArrayBufferWriter<byte>();
        ModelCatalogWriter.WriteList(protocol, config.Models.Names.Where(key.MayUse), buffer);
        await WriteJsonAsync(context, buffer).ConfigureAwait(false);
    }

    private static async Task GetAsync(HttpContext context, string model, GatewayConfigStore store)
    {
        var config = store.Current;
        var protocol = ClientErrors.GuessProtocol(context.Request);
        if (ClientKeyAuthenticator.Authenticate(context.Request, config) is not { } key)
        {
            await ClientErrors.WriteAsync(context, protocol, 401, "Missing or invalid API key.", openAICode: "invalid_api_key").ConfigureAwait(false);
            return;
        }

        if (config.Models.Resolve(model) is null || !key.MayUse(model))
        {
            await ClientErrors.WriteAsync(context, protocol, 404, $"The model '{model}' does not exist or is not available to this key.", "model", "model_not_found").ConfigureAwait(false);
            return;
        }

        var buffer = new ArrayBufferWriter<byte>();
        ModelCatalogWriter.WriteOne(protocol, model, buffer);
        await WriteJsonAsync(context, buffer).ConfigureAwait(false);
    }

    private static Task WriteJsonAsync(HttpContext context, ArrayBufferWriter<byte> buffer)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        return context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).AsTask();
    }
}
