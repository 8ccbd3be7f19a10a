using MixProxy.Translation;
using MixProxy.Translation.Errors;

namespace MixProxy.Proxy;

/// <summary>Writes gateway errors in the protocol the client speaks.</summary>
internal static class ClientErrors
{
    public static Task WriteAsync(HttpContext context, ApiProtocol protocol, int status, string message, string? param = null, string? openAICode = null)
    {
        var body = ErrorBodies.For(protocol, status, message, param, openAICode);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>
    /// The client protocol for a request outside a YARP route (model listings, unknown paths): Google clients use
    /// v1beta paths, <c>models/…:method</c> paths, or send their key as x-goog-api-key or ?key=.
    /// </summary>
    public static ApiProtocol GuessProtocol(HttpRequest request) =>
        request.Path.StartsWithSegments("/v1beta", StringComparison.Ordinal)
        || (request.Path.Value?.Contains(':', StringComparison.Ordinal) ?? false)
        || request.Headers.ContainsKey("x-goog-api-key")
        || request.Query.ContainsKey("key")
            ? ApiProtocol.Gemini
            : ApiProtocol.OpenAIChat;
}
