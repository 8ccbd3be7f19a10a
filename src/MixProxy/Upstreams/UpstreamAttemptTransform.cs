using System.Globalization;
using System.Net.Http.Headers;
using MixProxy.Proxy;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Transforms;

namespace MixProxy.Upstreams;

/// <summary>
/// Judges each upstream answer for the request's attempts, before anything of it reaches the client. A failure (429,
/// the gateway's key refused, 500/502/503/504) is reported to the destination's health; when another attempt follows,
/// the answer's body is withheld (YARP then sends nothing, and the attempts middleware starts the next). Any other
/// answer goes on to the client; when the model has more than one way to be answered (several destinations, retries
/// or fallbacks), it learns from <c>x-mixproxy-model</c> and <c>x-mixproxy-upstream</c> which model and destination
/// answered.
/// </summary>
internal sealed class UpstreamAttemptTransform(UpstreamRouter router) : ResponseTransform
{
    public const string ModelHeader = "x-mixproxy-model";
    public const string UpstreamHeader = "x-mixproxy-upstream";

    // Error bodies are read to learn what they say about the upstream (Google's RetryInfo, a refused key): small ones.
    private const int MaxErrorBodyBytes = 64 * 1024;

    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ProxyResponse is not { } upstream)
        {
            return; // no answer at all: the attempts middleware judges that
        }

        var request = context.HttpContext.GetGatewayRequest();
        var attempts = request.Attempts;
        var status = (int)upstream.StatusCode;
        if (!request.Stream || status != 200)
        {
            attempts.FirstByteArrived(); // a stream's first byte is its first chunk, which the first-chunk observer sees
        }

        AttemptFailure? failure = status switch
        {
            429 => AttemptFailure.Quota,
            401 or 403 => AttemptFailure.Credential,
            500 or 502 or 503 or 504 => AttemptFailure.ServerError,
            _ => null,
        };

        // Google answers a bad key with a 400 that only its body tells apart from a bad request.
        if (failure is not null || status == 400)
        {
            var body = await ReadSmallAsync(upstream.Content, context.CancellationToken).ConfigureAwait(false);
            if (body is not null)
            {
                var facts = attempts.Plan.Exchange.Upstream.ReadError(status, body);
                if (facts.CredentialRejected)
                {
                    failure = AttemptFailure.Credential;
                }

                if (failure is { } f)
                {
                    if (router.FailedAndRetrying(request, f, status, RetryAfter(upstream) ?? facts.RetryAfter))
                    {
                        context.SuppressResponseBody = true;
                        return;
                    }

                    Answering(context, request);
                    return;
                }
            }
            else if (failure is { } f)
            {
                // Too large to read (not an error body any upstream writes): judged by its status alone.
                if (router.FailedAndRetrying(request, f, status, RetryAfter(upstream)))
                {
                    context.SuppressResponseBody = true;
                    return;
                }

                Answering(context, request);
                return;
            }
        }

        router.Answered(request, status);
        Answering(context, request);
    }

    /// <summary>This attempt's answer is the client's: it says who answered, and the request bodies kept for retries can go.</summary>
    private static void Answering(ResponseTransformContext context, GatewayRequest request)
    {
        var attempts = request.Attempts;
        if (!attempts.MayRetry)
        {
            return; // one destination and nothing to retry: only one can answer, and the bodies are gone already
        }

        var headers = context.HttpContext.Response.Headers;
        headers[ModelHeader] = attempts.OnFallback ? request.Model.Name : request.Request.Model;
        if (attempts.Destination is { } destination)
        {
            headers[UpstreamHeader] = destination.Label;
        }

        request.Request.ReleaseBody();
        request.Call?.ReleaseRequest();
    }

    /// <summary>The upstream's <c>Retry-After</c> (seconds or a date) or OpenAI's <c>retry-after-ms</c>.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage upstream)
    {
        if (upstream.Headers.TryGetValues("retry-after-ms", out var values)
            && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        return upstream.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => null,
        };
    }

    /// <summary>Reads a small body whole and puts it back for the transforms after this one; null (and left unread) when large.</summary>
    private static async Task<byte[]?> ReadSmallAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > MaxErrorBodyBytes)
        {
            return null;
        }

        try
        {
            // Buffered inside the content, so the transforms after this one read it again from the start.
            await content.LoadIntoBufferAsync(MaxErrorBodyBytes, cancellationToken).ConfigureAwait(false);
            return await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return null; // broke off or larger than the cap: judged by its status alone
        }
    }
}
