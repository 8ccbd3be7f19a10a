using Microsoft.AspNetCore.Http.Features;
using MixProxy.Proxy;
using MixProxy.Translation.Protocols;

namespace MixProxy.Routing;

/// <summary>
/// Reads a request's body (when it is wanted) and has its client API parse it into a <see cref="ClientRequest"/>.
/// The body is read at most once; a request first parsed without it (its model is in the URL) is parsed again with
/// it when a later step needs it, and then only its body is new.
/// </summary>
internal static class ClientRequestReader
{
    /// <summary>Parses the request into <see cref="GatewayRequest.Request"/>; false when the client got an error instead.</summary>
    public static async Task<bool> TryReadAsync(HttpContext context, GatewayRequest request, bool withBody)
    {
        ReadOnlyMemory<byte>? body = null;
        try
        {
            if (withBody)
            {
                body = await ReadBodyAsync(context).ConfigureAwait(false);
            }

            request.Request = request.Api.Parse(request.Endpoint, request.Head, body);
            return true;
        }
        catch (BadHttpRequestException e)
        {
            // A body without a declared length meets the size limit while it is read: say so as the declared one is told.
            var message = e.StatusCode == 413 && context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } limit
                ? $"The request body is larger than the {limit} bytes this gateway accepts."
                : "The request body could not be read: " + e.Message;
            await ClientErrors.WriteAsync(context, request.Api, new ClientError(e.StatusCode, message)).ConfigureAwait(false);
        }
        catch (TranslationException e)
        {
            await ClientErrors.WriteAsync(context, request.Api, new ClientError(e.StatusCode, e.Message, e.Param)).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>
    /// Goes on with <paramref name="next"/> once <paramref name="read"/> succeeded (the client got its error otherwise),
    /// without an async frame when the read finished at once, as it does when no body is read.
    /// </summary>
    public static Task ThenAsync(Task<bool> read, RequestDelegate next, HttpContext context)
    {
        if (read.IsCompletedSuccessfully)
        {
            return read.Result ? next(context) : Task.CompletedTask;
        }

        return AwaitThenAsync(read, next, context);

        static async Task AwaitThenAsync(Task<bool> read, RequestDelegate next, HttpContext context)
        {
            if (await read.ConfigureAwait(false))
            {
                await next(context).ConfigureAwait(false);
            }
        }
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context)
    {
        // The declared length only sizes the first buffer, capped: Kestrel enforces the real body limit while reading.
        using var buffer = new MemoryStream((int)Math.Clamp(context.Request.ContentLength ?? 4096, 0, 64 * 1024));
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }
}
