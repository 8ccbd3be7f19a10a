using System.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Proxy;

/// <summary>
/// Puts the exchange's upstream request in place of the client's: body, path, query and the headers its protocol requires. Both the client's body and the
/// prepared one are let go as soon as YARP has sent them (or, when another attempt may send them again, once an answer
/// is accepted), since a stream can keep its request alive for minutes.
/// </summary>
internal sealed class UpstreamBodyTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.HttpContext.GetGatewayRequest();
        var call = request.Call!;
        var upstream = call.Request;
        var client = request.Request;

        // The gateway reads every response (usage for limits and metrics, translation, output.text), so they must
        // arrive uncompressed.
        context.ProxyRequest.Headers.AcceptEncoding.Clear();

        // A body the gateway read (to parse it) is gone from Request.Body: YARP sends whatever that holds now. Either
        // way it is JSON the gateway parsed, whatever content type the client sent it with.
        // NOTE: the cast matters: a bare null would convert to an *empty* ReadOnlyMemory through its array operator.
        var body = upstream.Body ?? (client.BodyRead && client.Body.Length > 0 ? client.Body : (ReadOnlyMemory<byte>?)null);
        if (body is { } bytes)
        {
            context.HttpContext.Request.Body = new SendOnceBodyStream(bytes);
            context.ProxyRequest.Content!.Headers.ContentLength = bytes.Length;
            context.ProxyRequest.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        if (upstream.Path is { } path)
        {
            context.Path = path;
        }

        if (upstream.Query is { } query)
        {
            context.Query.Collection.Clear();
            foreach (var parameter in query)
            {
                context.Query.Collection[parameter.Key] = parameter.Value;
            }
        }

        // After the header allow-list: these are the protocol's own, which the upstream refuses the request without.
        if (upstream.Headers is { } headers)
        {
            foreach (var (name, value) in headers)
            {
                context.ProxyRequest.Headers.Remove(name);
                context.ProxyRequest.Headers.TryAddWithoutValidation(name, value);
            }
        }

        // Kept while another attempt may send them again; let go once an answer is accepted (see UpstreamAttemptTransform).
        if (!request.Attempts.MayRetry)
        {
            client.ReleaseBody();
            call.ReleaseRequest();
        }

        return ValueTask.CompletedTask;
    }
}
