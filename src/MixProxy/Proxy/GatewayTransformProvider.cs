using MixProxy.Lifecycle;
using MixProxy.Caching;
using MixProxy.State;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using MixProxy.Upstreams;
using Yarp.ReverseProxy.Transforms.Builder;

namespace MixProxy.Proxy;

/// <summary>
/// Puts MixProxy's transforms on every route, one per job, in order. On the way up: client credentials out, headers
/// the cluster does not allow out, the exchange's body, path and query in, the chosen destination's credential in, the
/// send time noted. On the way down: the upstream's first byte noted, the answer judged for the attempts (a failure
/// withheld when another attempt follows), the answer through the exchange, the first chunk to the
/// client noted, the response recorded for the cache. They act on the request's <see cref="GatewayRequest"/>, so they
/// never parse the request again.
/// </summary>
internal sealed class GatewayTransformProvider(ProtocolRegistry protocols, ResponseCache cache, StoredResultStore stored, GatewayMetrics metrics, UpstreamRouter router, GatewayDrain drain, ILoggerFactory loggers) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        // Upstreams are third parties: client addresses stay here.
        context.UseDefaultForwarders = false;
        context.RequestTransforms.Add(new ClientCredentialsTransform(protocols));
        context.RequestTransforms.Add(new HeaderAllowListTransform());
        context.RequestTransforms.Add(new UpstreamBodyTransform());
        context.RequestTransforms.Add(new UpstreamCredentialTransform());
        context.RequestTransforms.Add(new UpstreamSentTransform());

        context.ResponseTransforms.Add(new UpstreamResponseObserver(metrics));
        context.ResponseTransforms.Add(new UpstreamAttemptTransform(router));
        context.ResponseTransforms.Add(new UpstreamResponseHeadersTransform(protocols));
        context.ResponseTransforms.Add(new DrainDeadlineTransform(drain));
        context.ResponseTransforms.Add(new ResponseTranslationTransform(metrics, stored, loggers.CreateLogger<ResponseTranslationTransform>()));
        context.ResponseTransforms.Add(new FirstChunkObserver());
        context.ResponseTransforms.Add(new CacheRecordingTransform(cache));
    }
}
