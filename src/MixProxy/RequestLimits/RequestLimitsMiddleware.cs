using Microsoft.AspNetCore.Http.Features;
using MixProxy.Proxy;
using MixProxy.Translation.Protocols;

namespace MixProxy.RequestLimits;

/// <summary>
/// First in the pipeline: refuses a request whose head is over the gateway's limits (<see cref="RequestLimitsOptions"/>),
/// a path or query too long (414) or too many or too large header fields (431), with an error body in the protocol of
/// the client it looks like, before routing or any other work. Kestrel's own limits sit above these
/// (<see cref="KestrelBackstop"/>), so within their reach it is this answer a client gets, not Kestrel's empty one.
/// </summary>
internal sealed class RequestLimitsMiddleware(RequestDelegate next, RequestLimitsOptions limits, ProtocolRegistry protocols)
{
    public Task InvokeAsync(HttpContext context)
    {
        var refusal = Check(context);
        return refusal is null
            ? next(context)
            : ClientErrors.WriteAsync(context, protocols.ClientApiFor(new HttpRequestHead(context.Request)), refusal);
    }

    private ClientError? Check(HttpContext context)
    {
        // The target as it came on the wire (escapes not decoded): what the client sent, and what Kestrel's backstop counts.
        var request = context.Request;
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value + request.QueryString.Value;
        var queryStart = target.IndexOf('?', StringComparison.Ordinal);
        var pathLength = queryStart < 0 ? target.Length : queryStart;
        var queryLength = queryStart < 0 ? 0 : target.Length - queryStart - 1;
        if (pathLength > limits.MaxPathLength)
        {
            return new ClientError(414, $"The request path is {pathLength} bytes long; this gateway takes paths of at most {limits.MaxPathLength} bytes.");
        }

        if (queryLength > limits.MaxQueryLength)
        {
            return new ClientError(414, $"The request's query string is {queryLength} bytes long; this gateway takes a query of at most {limits.MaxQueryLength} bytes.");
        }

        var count = 0;
        long size = 0;
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                count++;
                size += name.Length + (value?.Length ?? 0) + 4; // "name: value" and CRLF
            }
        }

        if (count > limits.MaxHeaderCount)
        {
            return new ClientError(431, $"The request has {count} header fields; this gateway takes at most {limits.MaxHeaderCount}.");
        }

        return size > limits.MaxHeadersTotalSize
            ? new ClientError(431, $"The request's header fields take {size} bytes; this gateway takes at most {limits.MaxHeadersTotalSize}.")
            : null;
    }
}
