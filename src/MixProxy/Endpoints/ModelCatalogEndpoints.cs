using System.Buffers;
using MixProxy.Auth;
using MixProxy.Configuration;
using MixProxy.Proxy;
using MixProxy.Translation.Protocols;

namespace MixProxy.Endpoints;

/// <summary>
/// The model catalogues of every client API (<c>GET /v1/models</c>, <c>GET /v1beta/models</c> and single-model
/// lookups), answered from the model map: the gateway's catalogue is what it routes, filtered to what the caller's key
/// may use. Where two APIs share a path (OpenAI and Google's v1 both list <c>/v1/models</c>), the one that claims the
/// request answers (a Google-style credential selects Google's shape).
/// </summary>
internal static class ModelCatalogEndpoints
{
    public static void MapModelCatalog(this IEndpointRouteBuilder endpoints, ProtocolRegistry protocols)
    {
        foreach (var path in protocols.ClientApis.SelectMany(api => api.Catalog.ListPaths).Distinct(StringComparer.Ordinal))
        {
            var candidates = protocols.ClientApis.Where(api => api.Catalog.ListPaths.Contains(path)).ToList();
            endpoints.MapGet(path, context => ListAsync(context, protocols, candidates));
        }

        foreach (var path in protocols.ClientApis.SelectMany(api => api.Catalog.ModelPaths).Distinct(StringComparer.Ordinal))
        {
            var candidates = protocols.ClientApis.Where(api => api.Catalog.ModelPaths.Contains(path)).ToList();
            endpoints.MapGet(path, context => GetAsync(context, protocols, candidates));
        }
    }

    private static Task ListAsync(HttpContext context, ProtocolRegistry protocols, IReadOnlyList<ClientApi> candidates) =>
        AnswerAsync(context, protocols, candidates, (config, head, api, key, buffer) =>
        {
            api.WriteModelList(config.Models.Names.Where(key.MayUse), buffer);
            return null;
        });

    private static Task GetAsync(HttpContext context, ProtocolRegistry protocols, IReadOnlyList<ClientApi> candidates) =>
        AnswerAsync(context, protocols, candidates, (config, head, api, key, buffer) =>
        {
            var model = head.RouteValue(ModelCatalog.ModelParameter) ?? string.Empty;
            if (config.Models.Resolve(model) is null || !key.MayUse(model))
            {
                return new ClientError(404, $"The model '{model}' does not exist or is not available to this key.", api.Catalog.ModelParam, ClientErrorKind.UnknownModel);
            }

            api.WriteModel(model, buffer);
            return null;
        });

    /// <summary>
    /// A catalogue request: the API whose client it looks like answers, after the key (from wherever any protocol
    /// puts it) is checked; <paramref name="write"/> writes the body, or returns the error to answer instead.
    /// </summary>
    private static async Task AnswerAsync(
        HttpContext context,
        ProtocolRegistry protocols,
        IReadOnlyList<ClientApi> candidates,
        Func<GatewaySnapshot, HttpRequestHead, ClientApi, ClientKey, ArrayBufferWriter<byte>, ClientError?> write)
    {
        var config = context.RequestServices.GetRequiredService<GatewayConfigStore>().Current;
        var head = new HttpRequestHead(context.Request);
        var api = protocols.ClientApiFor(head, candidates);
        var (key, refusal) = ClientKeyAuthenticator.Authenticate(head, protocols, config);
        if (key is null)
        {
            await ClientErrors.WriteAsync(context, api, refusal!).ConfigureAwait(false);
            return;
        }

        var buffer = new ArrayBufferWriter<byte>();
        if (write(config, head, api, key, buffer) is { } error)
        {
            await ClientErrors.WriteAsync(context, api, error).ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, buffer).ConfigureAwait(false);
    }

    private static Task WriteJsonAsync(HttpContext context, ArrayBufferWriter<byte> buffer)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        return context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).AsTask();
    }
}
