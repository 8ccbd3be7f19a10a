using System.Diagnostics;
using MixProxy.Caching;
using MixProxy.State;
using MixProxy.Telemetry;
using MixProxy.Translation.Protocols;

namespace MixProxy.Proxy;

/// <summary>
/// Begins the request's exchange: restores the thought signatures the client dropped from the gateway's memory and
/// prepares the upstream request (translated, rewritten or untouched; bad input is a 400 here, before anything is
/// charged). A request that continues a result the gateway stored (<see cref="ClientRequest.PriorResultId"/>) gets it
/// from the store first, under the client's key. Once the response is over it remembers the signatures the upstream
/// issued, stores the result the client asked to keep, and logs a stream translation that failed inside the gateway or
/// a stream whose upstream broke off.
/// </summary>
internal sealed class ExchangeMiddleware(RequestDelegate next, ThoughtSignatureCache signatures, StoredResultStore stored, GatewayMetrics metrics, TimeProvider time, ILogger<ExchangeMiddleware> logger)
    : IRequestCompletion
{
    private static readonly KeyValuePair<string, object?> RequestDirection = new("mixproxy.translation.direction", "request");
    private static readonly KeyValuePair<string, object?> ResponseDirection = new("mixproxy.translation.direction", "response");
    private static readonly KeyValuePair<string, object?> StreamDirection = new("mixproxy.translation.direction", "stream");

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetGatewayRequest();

        // Signatures the client dropped (SDKs that rebuild the history from their own types) come from the cache.
        var unsigned = request.Exchange.SignaturesToRecall(request.Request);
        var continues = request.Request.PriorResultId is not null && request.Exchange.UsesStoredResults;
        return unsigned.Count == 0 && !continues ? BeginAsync(context, request, known: null, prior: null) : LoadThenBeginAsync(context, request, unsigned, continues);
    }

    private async Task LoadThenBeginAsync(HttpContext context, GatewayRequest request, IReadOnlyList<string> unsigned, bool continues)
    {
        StoredResult? prior = null;
        if (continues)
        {
            var read = await stored.FindAsync(request.Key.Hash, request.Request.PriorResultId!, context.RequestAborted).ConfigureAwait(false);
            if (read.Failed)
            {
                // "Not found" would send the client off to start its conversation again: this is a retry later.
                await ClientErrors.WriteAsync(context, request.Api, new ClientError(503, "The stored conversation this request continues cannot be read right now; try again shortly.")).ConfigureAwait(false);
                return;
            }

            prior = read.Result;
        }

        var known = unsigned.Count == 0 ? null : await signatures.RecallAsync(request.Key.Hash, unsigned, context.RequestAborted).ConfigureAwait(false);
        await BeginAsync(context, request, known, prior).ConfigureAwait(false);
    }

    private Task BeginAsync(HttpContext context, GatewayRequest request, ThoughtSignatureBag? known, StoredResult? prior)
    {
        var exchange = request.Exchange;
        var client = request.Request;
        var settings = new ExchangeSettings
        {
            Model = request.Model.ProfileFor(client.Model),
            Created = time.GetUtcNow().ToUnixTimeSeconds(),
            OutputText = request.Route.OutputText,
            KnownSignatures = known,
            PriorResult = prior,
            Dialect = request.Config.Upstreams[request.Model.ClusterId].Dialect,
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
        var operation = new KeyValuePair<string, object?>("gen_ai.operation.name", request.Endpoint.OperationName);
        foreach (var field in request.Call.Dropped)
        {
            metrics.DroppedFields.Add(1, metrics.DroppedFieldLabels.Field(DroppedFields.Shape(field)), operation, RequestDirection);
        }

        foreach (var field in outcome.DroppedAnswerFields)
        {
            metrics.DroppedFields.Add(1, metrics.DroppedFieldLabels.Field(field), operation, request.Stream ? StreamDirection : ResponseDirection);
        }

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
        var remembering = outcome.HasIssuedSignatures && !request.Attempts.OnFallback ? signatures.RememberAsync(request.Key.Hash, outcome.IssuedSignatures) : Task.CompletedTask;
        // A result is stored before its answer ends (ResponseTranslationTransform); one that was not is stored now.
        return outcome.ResultToStore is { } result && !outcome.ResultKept ? StoreAfterAsync(remembering, request.Key.Hash, result) : remembering;
    }

    private async Task StoreAfterAsync(Task remembering, string keyHash, StoredResult result)
    {
        await remembering.ConfigureAwait(false);
        await stored.SaveAsync(keyHash, result).ConfigureAwait(false);
    }
}
