using System.Buffers;
using MixProxy.Auth;
using MixProxy.Configuration;
using MixProxy.Proxy;
using MixProxy.Translation.Protocols;

namespace MixProxy.State;

/// <summary>
/// The operations client APIs offer on the results the gateway stored for them (the Responses API's
/// <c>GET</c>/<c>DELETE /v1/responses/{id}</c> and <c>…/input_items</c>): the key is checked as for any request, and
/// only that key's results are found.
/// </summary>
internal static class StoredResultEndpoints
{
    public static void MapStoredResults(this IEndpointRouteBuilder endpoints, ProtocolRegistry protocols)
    {
        foreach (var api in protocols.ClientApis)
        {
            if (api.StoredResults is not { } stored)
            {
                continue;
            }

            endpoints.MapGet(stored.ItemPath, context => AnswerAsync(context, protocols, api, stored, ReadAsync));
            endpoints.MapDelete(stored.ItemPath, context => AnswerAsync(context, protocols, api, stored, DeleteAsync));
            if (stored.InputItemsPath is { } inputItems)
            {
                endpoints.MapGet(inputItems, context => AnswerAsync(context, protocols, api, stored, ListInputAsync));
            }
        }
    }

    private static async Task<ClientError?> ReadAsync(StoredResultStore store, ClientKey key, string id, StoredResultApi api, HttpContext context, ArrayBufferWriter<byte> body)
    {
        var read = await store.FindAsync(key.Hash, id, context.RequestAborted).ConfigureAwait(false);
        if (Refusal(read, id, api) is { } refusal)
        {
            return refusal;
        }

        api.WriteResult(read.Result!.Record.Span, body);
        return null;
    }

    private static async Task<ClientError?> ListInputAsync(StoredResultStore store, ClientKey key, string id, StoredResultApi api, HttpContext context, ArrayBufferWriter<byte> body)
    {
        var read = await store.FindAsync(key.Hash, id, context.RequestAborted).ConfigureAwait(false);
        if (Refusal(read, id, api) is { } refusal)
        {
            return refusal;
        }

        var query = context.Request.Query.ToDictionary(pair => pair.Key, pair => pair.Value.ToString(), StringComparer.Ordinal);
        try
        {
            api.WriteInputItems(read.Result!.Record.Span, query, body);
        }
        catch (TranslationException e)
        {
            return new ClientError(e.StatusCode, e.Message, e.Param);
        }

        return null;
    }

    private static async Task<ClientError?> DeleteAsync(StoredResultStore store, ClientKey key, string id, StoredResultApi api, HttpContext context, ArrayBufferWriter<byte> body)
    {
        var deleted = await store.DeleteAsync(key.Hash, id, context.RequestAborted).ConfigureAwait(false);
        if (Refusal(deleted, id, api) is { } refusal)
        {
            return refusal;
        }

        api.WriteDeleted(id, body);
        return null;
    }

    private static ClientError? Refusal(StoreRead read, string id, StoredResultApi api) =>
        read.Failed ? new ClientError(503, "Stored results cannot be reached right now; try again shortly.")
        : read.Result is null ? new ClientError(404, api.NotFoundMessage(id))
        : null;

    private static async Task AnswerAsync(
        HttpContext context,
        ProtocolRegistry protocols,
        ClientApi api,
        StoredResultApi stored,
        Func<StoredResultStore, ClientKey, string, StoredResultApi, HttpContext, ArrayBufferWriter<byte>, Task<ClientError?>> answer)
    {
        var config = context.RequestServices.GetRequiredService<GatewayConfigStore>().Current;
        var head = new HttpRequestHead(context.Request);
        var (key, refusal) = ClientKeyAuthenticator.Authenticate(head, protocols, config);
        if (key is null)
        {
            await ClientErrors.WriteAsync(context, api, refusal!).ConfigureAwait(false);
            return;
        }

        var id = head.RouteValue(stored.IdRouteValue) ?? string.Empty;
        if (!stored.IsWellFormedId(id))
        {
            await ClientErrors.WriteAsync(context, api, new ClientError(404, stored.NotFoundMessage(id))).ConfigureAwait(false);
            return;
        }

        var body = new ArrayBufferWriter<byte>();
        if (await answer(context.RequestServices.GetRequiredService<StoredResultStore>(), key, id, stored, context, body).ConfigureAwait(false) is { } error)
        {
            await ClientErrors.WriteAsync(context, api, error).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.WrittenCount;
        await context.Response.Body.WriteAsync(body.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
