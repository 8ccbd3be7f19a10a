using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using MixProxy.State;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;
using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Proxy;

/// <summary>
/// Hands the upstream's answer to the request's exchange call and sends the client what it gives back: an error
/// restated (or passed through), a whole response translated (or passed through with its usage read and
/// <c>output.text</c> added), a stream wrapped event by event. An upstream answer that cannot be used is a 502 in the
/// client's protocol; anything else the exchange throws is a gateway bug, logged, and a 500 in the client's protocol
/// (YARP would otherwise report it as an unreachable upstream).
/// </summary>
internal sealed class ResponseTranslationTransform(GatewayMetrics metrics, StoredResultStore stored, ILogger<ResponseTranslationTransform> logger) : ResponseTransform
{
    // Upstream bodies the gateway must read whole (non-streaming responses, errors) are capped: a runaway
    // upstream must not exhaust the gateway's memory.
    private const int MaxBufferedResponseBytes = 64 * 1024 * 1024;

    /// <summary>The gateway's header listing the request fields its upstream went without (docs/translation.md).</summary>
    public const string DroppedHeader = "x-mixproxy-dropped";

    /// <summary>The gateway's header listing the fields of the upstream's whole answer the client's protocol has no place for.</summary>
    public const string DroppedAnswerHeader = "x-mixproxy-dropped-answer";

    private static readonly KeyValuePair<string, object?> ResponseDirection = new("mixproxy.translation.direction", "response");
    private static readonly KeyValuePair<string, object?> StreamDirection = new("mixproxy.translation.direction", "stream");

    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse is not { } upstream || context.SuppressResponseBody)
        {
            return; // no response (the forwarding-error middleware answers), or one withheld for another attempt
        }

        var request = context.HttpContext.GetGatewayRequest();
        var call = request.Call!;
        var response = context.HttpContext.Response;
        if (call.Dropped.Count > 0)
        {
            // What the upstream went without, said before the answer (a stream's headers go first).
            response.Headers[DroppedHeader] = string.Join(", ", call.Dropped);
        }

        try
        {
            if (!upstream.IsSuccessStatusCode)
            {
                var secret = request.Attempts.Destination?.Credential.Secret;
                if (call.RestatesErrors)
                {
                    var body = await ReadCappedAsync(upstream.Content, context.CancellationToken).ConfigureAwait(false);
                    var error = call.TranslateError((int)upstream.StatusCode, body);
                    response.StatusCode = error.StatusCode;
                    if (error.RetryAfter is { } retry)
                    {
                        response.Headers.RetryAfter = Math.Ceiling(retry.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                    }

                    // An upstream that quotes the key it was given ("Incorrect API key provided: …") quotes the gateway's.
                    Replace(context, Redacted(error.Body, secret), "application/json");
                }
                else if (request.Attempts.LastFailure == Upstreams.AttemptFailure.Credential)
                {
                    // Passed through, the upstream's "API key not valid" would tell the client that *its* key is wrong.
                    response.StatusCode = 502;
                    Replace(context, request.Api.ErrorBody(new ClientError(502, "The upstream rejected the gateway's credentials; the client's key is not at fault.", Kind: ClientErrorKind.UpstreamCredentialRejected)), "application/json");
                }
                else if (!IsJson(upstream.Content.Headers.ContentType?.MediaType))
                {
                    // A load balancer's HTML page is no error a client of either protocol can read, and it may echo
                    // what the gateway sent: the client gets the status in its own protocol, not the page.
                    var kind = upstream.Content.Headers.ContentType?.MediaType ?? "body without a content type";
                    Replace(context, request.Api.ErrorBody(new ClientError((int)upstream.StatusCode, $"The upstream answered {(int)upstream.StatusCode} with a {kind} instead of an error of its protocol.")), "application/json");
                }
                else if (secret is { Length: > 0 })
                {
                    // A passed-through error goes on as the upstream wrote it, but for the gateway's key if it quotes it.
                    var body = await ReadCappedAsync(upstream.Content, context.CancellationToken).ConfigureAwait(false);
                    Replace(context, Redacted(body, secret), upstream.Content.Headers.ContentType?.ToString() ?? "application/json");
                }

                // The request gave up with destinations cooling down: the client may come back when the first is back.
                if (request.Attempts.RetryAfter is { } comeback)
                {
                    RateLimiting.RateLimitHeaders.ApplyRetryAfter(response.Headers, comeback);
                }

                return;
            }

            // A result the client asked to keep is stored before the client has the whole answer: it may continue it at once.
            var keyHash = request.Key.Hash;
            call.Outcome.ResultKeeper = result => stored.SaveAsync(keyHash, result);
            if (request.Stream)
            {
                var inner = await upstream.Content.ReadAsStreamAsync(context.CancellationToken).ConfigureAwait(false);
                var reply = call.TranslateStream(inner, upstream.Content.Headers.ContentType?.MediaType, context.HttpContext.RequestAborted);
                upstream.Content = new StreamContent(reply.Body);
                if (reply.ContentType is { } contentType)
                {
                    response.Headers.ContentLength = null;
                    response.Headers.ContentType = contentType;
                }

                if (reply.NoCache)
                {
                    response.Headers.CacheControl = "no-cache";
                }

                return;
            }

            var original = await ReadCappedAsync(upstream.Content, context.CancellationToken).ConfigureAwait(false);
            var upstreamContentType = upstream.Content.Headers.ContentType?.ToString();
            var output = new ArrayBufferWriter<byte>(original.Length + 512);
            var started = Stopwatch.GetTimestamp();
            var written = call.TranslateResponse(original, upstreamContentType, output);
            if (request.Exchange.Translates)
            {
                metrics.TranslationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, ResponseDirection);
                metrics.TranslationBytes.Record(output.WrittenCount, ResponseDirection);
            }

            if (call.Outcome.DroppedAnswerFields.Count > 0)
            {
                // Known only once the answer is read: a stream's headers are out by then, so streams report them in the metric alone.
                response.Headers[DroppedAnswerHeader] = string.Join(", ", call.Outcome.DroppedAnswerFields);
            }

            await call.Outcome.KeepResultAsync().ConfigureAwait(false);
            Replace(context, written is null ? original : output.WrittenMemory, written ?? upstreamContentType ?? "application/json");
        }
        catch (UpstreamResponseException e)
        {
            if (request.Exchange.Translates)
            {
                metrics.TranslationErrors.Add(1, request.Stream ? StreamDirection : ResponseDirection, new KeyValuePair<string, object?>("error.type", "bad_upstream_response"));
            }

            response.StatusCode = 502;
            Replace(context, request.Api.ErrorBody(ClientError.BadUpstream(e.Message)), "application/json");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            GatewayLog.RequestFailed(logger, request.Endpoint.Id, e);
            response.StatusCode = 500;
            response.Headers.CacheControl = default;
            Replace(context, request.Api.ErrorBody(new ClientError(500, "The gateway failed while handling this request; the failure is logged.")), "application/json");
        }
    }

    /// <summary><paramref name="body"/> with every occurrence of <paramref name="secret"/> replaced by <c>[redacted]</c>.</summary>
    internal static byte[] Redacted(byte[] body, string? secret)
    {
        if (secret is not { Length: > 0 })
        {
            return body;
        }

        var needle = System.Text.Encoding.UTF8.GetBytes(secret);
        var at = body.AsSpan().IndexOf(needle);
        if (at < 0)
        {
            return body;
        }

        var redacted = new List<byte>(body.Length);
        var rest = body.AsSpan();
        while ((at = rest.IndexOf(needle)) >= 0)
        {
            redacted.AddRange(rest[..at]);
            redacted.AddRange("[redacted]"u8);
            rest = rest[(at + needle.Length)..];
        }

        redacted.AddRange(rest);
        return [.. redacted];
    }

    private static bool IsJson(string? mediaType) =>
        mediaType is not null && (mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    private static void Replace(ResponseTransformContext context, ReadOnlyMemory<byte> body, string contentType)
    {
        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        // The upstream's own body is done with (read whole, or abandoned for an error): its connection goes back now.
        context.ProxyResponse!.Content.Dispose();
        context.ProxyResponse.Content = content;
        context.HttpContext.Response.Headers.ContentLength = body.Length;
        context.HttpContext.Response.Headers.ContentType = contentType;
        context.HttpContext.Response.Headers.ContentEncoding = default;
    }

    /// <summary>Reads a whole upstream body; one that breaks off or runs past the cap is the upstream's fault (502).</summary>
    private static async Task<byte[]> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadWholeAsync(content, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new UpstreamResponseException("The upstream's response broke off: " + e.Message, e);
        }
    }

    private static async Task<byte[]> ReadWholeAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > MaxBufferedResponseBytes)
        {
            throw new UpstreamResponseException($"The upstream response is larger than the {MaxBufferedResponseBytes} bytes the gateway reads whole.");
        }

        using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        if (content.Headers.ContentLength is { } length)
        {
            // The usual case: one array of the declared size, filled in place (SocketsHttpHandler enforces the length).
            var exact = new byte[length];
            await stream.ReadExactlyAsync(exact, cancellationToken).ConfigureAwait(false);
            return exact;
        }

        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxBufferedResponseBytes)
                {
                    throw new UpstreamResponseException($"The upstream response is larger than the {MaxBufferedResponseBytes} bytes the gateway reads whole.");
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}
