using System.Diagnostics;
using MixProxy.Caching;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;

namespace MixProxy.Proxy;

/// <summary>
/// Begins the request's exchange: restores the thought signatures the client dropped from the gateway's memory and
/// prepares the upstream request (translated, rewritten or untouched; bad input is a 400 here, before anything is
/// charged). Once the response is over it remembers the signatures the upstream issued and logs a stream translation
/// that failed inside the gateway or a stream whose upstream broke off.
/// </summary>
internal sealed class ExchangeMiddleware(RequestDelegate next, ThoughtSignatureCache signatures, GatewayMetrics metrics, TimeProvider time, ILogger<ExchangeMiddleware> logger)
    : IRequestCompletion
{
    private static readonly KeyValuePair<string, object?> RequestDirection = new("mixproxy.translation.direction", "request");

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();

        // Signatures the client dropped (SDKs that rebuild the history from their own types) come from the cache.
        var unsigned = request.Exchange.SignaturesToRecall(request.Request);
        return unsigned.Count == 0 ? BeginAsync(context, request, known: null) : RecallThenBeginAsync(context, request, unsigned);
    }

    private async Task RecallThenBeginAsync(HttpContext context, GatewayRequest request, IReadOnlyList<string> unsigned)
    {
        var known = await signatures.RecallAsync(request.Key.Hash, unsigned, context.RequestAborted).ConfigureAwait(false);
        await BeginAsync(context, request, known).ConfigureAwait(false);
    }

    private Task BeginAsync(HttpContext context, GatewayRequest request, ThoughtSignatureBag? known)
    {
        var exchange = request.Exchange;
        var client = request.Request;
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

            return ClientErrors.WriteAsync(context, request.Api, new ClientError(e.StatusCode, e.Message, e.Param));
        }

        if (exchange.Translates)
        {
            metrics.TranslationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, RequestDirection);
            metrics.TranslationBytes.Record(call.Request.Body?.Length ?? 0, RequestDirection);
        }

        request.Call = call;
        request.Settings = settings;
        request.OnCompleted(this);
        return next(context);
    }

    public Task CompleteAsync(HttpContext context, GatewayRequest request)
    {
        var outcome = request.Call!.Outcome;
        if (outcome.TranslationFault is { } fault)
        {
            GatewayLog.StreamTranslationFailed(logger, request.Exchange.ToString(), fault);
        }

        if (outcome.UpstreamFault is { } broken)
        {
            GatewayLog.UpstreamBrokeOffMidStream(logger, request.Exchange.ToString(), broken);
        }

        // Signatures a fallback's endpoint issued are not remembered: recalled into the next turn, they would go to the
        // model's own endpoint, which refuses another endpoint's signatures.
        return outcome.HasIssuedSignatures && !request.Attempts.OnFallback ? signatures.RememberAsync(request.Key.Hash, outcome.IssuedSignatures) : Task.CompletedTask;
    }
}
