using MixProxy.Translation.Protocols;

namespace MixProxy.Proxy;

/// <summary>Writes the gateway's own errors in the protocol the client speaks.</summary>
internal static class ClientErrors
{
    public static Task WriteAsync(HttpContext context, ClientApi api, ClientError error)
    {
        var body = api.ErrorBody(error);
        context.Response.StatusCode = error.Status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
