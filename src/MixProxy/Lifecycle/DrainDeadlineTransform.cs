using MixProxy.Proxy;
using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Lifecycle;

/// <summary>
/// Puts each streamed upstream answer under the drain's deadline before the exchange reads it, so a stream still open
/// when the drain time runs out ends with its protocol's error event. Whole answers are left alone: reading them takes
/// no time once their headers are in.
/// </summary>
internal sealed class DrainDeadlineTransform(GatewayDrain drain) : ResponseTransform
{
    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse is not { IsSuccessStatusCode: true } upstream || context.SuppressResponseBody || !context.HttpContext.GetGatewayRequest().Stream)
        {
            return;
        }

        var original = upstream.Content;
        var body = await original.ReadAsStreamAsync(context.CancellationToken).ConfigureAwait(false);
        var deadlined = new StreamContent(new DrainDeadlineStream(body, drain.DrainTimeout, drain.Deadline));
        foreach (var header in original.Headers)
        {
            deadlined.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        upstream.Content = deadlined;
    }
}
