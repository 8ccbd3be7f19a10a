using MixProxy.Configuration;
using MixProxy.Proxy;
using MixProxy.Translation.Protocols;
using MixProxy.Upstreams;
using Yarp.ReverseProxy;

namespace MixProxy.Routing;

/// <summary>
/// Resolves the model once in the model map, checks the key may use it, picks the exchange for the client's protocol
/// and the upstream's (asking the registry), and points the request at the model's cluster. Unknown model: 404; not
/// the key's: 403; no exchange: 501; a cluster mid-reload: 503, each in the client's protocol.
/// </summary>
internal sealed class ModelRoutingMiddleware(RequestDelegate next, GatewayConfigStore store, UpstreamRouter router, ProtocolRegistry protocols)
{
    public Task InvokeAsync(HttpContext context) => RouteAsync(context, context.GetGatewayRequest());

    private Task RouteAsync(HttpContext context, GatewayRequest request)
    {
        var client = request.Request;
        var model = client.Model;
        var param = request.Endpoint.ModelParam;
        if (!ModelMap.IsValidName(model))
        {
            return RefuseAsync(context, request, new ClientError(400, "The model name may only use letters, digits and . _ - : / @ + (at most 200 characters, no '..').", param));
        }

        // Taken once the body is in (it can be a slow upload): the model map, the credentials and the live cluster
        // below all come from the generation in force then.
        var config = store.Current;
        if (config.Models.Resolve(model) is not { } entry)
        {
            return RefuseAsync(context, request, new ClientError(404, request.Api.UnknownModelMessage(client), param, ClientErrorKind.UnknownModel));
        }

        if (!request.Key.MayUse(model))
        {
            return RefuseAsync(context, request, new ClientError(403, $"API key '{request.Key.Name}' may not use model '{model}'.", param, ClientErrorKind.ModelNotAllowed));
        }

        if (protocols.FindExchange(request.Api, entry.Protocols) is not { } exchange)
        {
            var spoken = string.Join(", ", entry.Protocols.Select(p => p.Name));
            return RefuseAsync(context, request, new ClientError(501, $"Model '{model}' is not served to {request.Api.Name} clients: its upstream speaks {spoken}.", param));
        }

        var attempts = new UpstreamAttempts(entry, config.Upstreams[entry.ClusterId]);
        if ((exchange.NeedsBody(client, replaySignatures: true, config.Upstreams[entry.ClusterId].Dialect) || attempts.MayRetry) && !client.BodyRead)
        {
            // A body left unread (its model is in the URL) is wanted after all, to translate it or to send it again
            // on another attempt: read it, then route again on the generation in force once it is in. Only this path
            // resolves the model twice.
            return ClientRequestReader.ThenAsync(ClientRequestReader.TryReadAsync(context, request, withBody: true), Reroute, context);
        }

        if (!router.TryGetLiveCluster(config, entry.ClusterId, out var cluster))
        {
            return RefuseAsync(context, request, new ClientError(503, $"The cluster for model '{model}' is not available yet; retry."));
        }

        request.Config = config;
        request.Model = entry;
        request.Exchange = exchange;
        request.Attempts = attempts;
        request.Telemetry.Describe(request.Endpoint, exchange.Upstream, entry, model, client.Stream);
        context.ReassignProxyRequest(cluster);
        return next(context);
    }

    private Task Reroute(HttpContext context) => RouteAsync(context, context.GetGatewayRequest());

    private static Task RefuseAsync(HttpContext context, GatewayRequest request, ClientError error) => ClientErrors.WriteAsync(context, request.Api, error);
}
