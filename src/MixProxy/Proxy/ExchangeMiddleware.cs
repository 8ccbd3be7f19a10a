using System.Diagnostics;
using MixProxy.Caching;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;

namespace MixProxy.Proxy;

/// <summary>
/// Begins the request's exchange: restores the thought signatures the client dropped from the gateway's memory,
/// prepares the upstream request (translated, rewritten or untouched; bad input is a 400 here, before anything is
/// charged) and, once the response is over, remembers the signatures the upstream issued and logs a stream
/// translation that failed inside the gateway.
/// </summary>
internal sealed class ExchangeMiddleware(RequestDelegate next, ThoughtSignatureCache signatures, GatewayMetrics metrics, TimeProvider time, ILogger<ExchangeMiddleware> logger)
{
    private static readonly KeyValuePair<string, object?> RequestDirection = new("mixproxy.translation.direction", "request");

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();
        var exchange = request.Exchange;
        var client = request.Request;

        // Signatures the client dropped (SDKs that rebuild the history from their own types) come from the cache.
        ThoughtSignatureBag? known = null;
        var unsigned = exchange.SignaturesToRecall(client);
        if (unsigned.Count > 0)
        {
            var lookups = unsigned.Distinct(StringComparer.Ordinal).TakeLast(ThoughtSignatureCache.MaxLookups).ToList();
            known = await signatures.RecallAsync(request.Key.Hash, lookups, context.RequestAborted).ConfigureAwait(false);
        }

        var settings = new ExchangeSettings
        {
            Model = request.Model.ProfileFor(client.Model),
            Created = time.GetUtcNow().ToUnixTimeSeconds(),
            OutputText = request.Route.OutputText,
            KnownSignatures = known,
        };

        ExchangeCall call;
        var started = Stopwatch.GetTimestamp();
        try
        {
            call = exchange.Begin(client, settings);
        }
        catch (TranslationException e)
        {
            if (exchange.Translates && e.StatusCode == 400)
            {
                metrics.TranslationErrors.Add(1, RequestDirection, new KeyValuePair<string, object?>("error.type", "invalid_request"));
            }

            await ClientErrors.WriteAsync(context, request.Api, new ClientError(e.StatusCode, e.Message, e.Param)).ConfigureAwait(false);
            return;
        }

        if (exchange.Translates)
        {
            metrics.TranslationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, RequestDirection);
            metrics.TranslationBytes.Record(call.Request.Body?.Length ?? 0, RequestDirection);
        }

        request.Call = call;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            if (call.Outcome.TranslationFault is { } fault)
            {
                GatewayLog.StreamTranslationFailed(logger, exchange.ToString(), fault);
            }

            if (call.Outcome.HasIssuedSignatures)
            {
                await signatures.RememberAsync(request.Key.Hash, call.Outcome.IssuedSignatures).ConfigureAwait(false);
            }
        }
    }
}
