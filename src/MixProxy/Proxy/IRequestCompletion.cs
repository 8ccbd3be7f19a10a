namespace MixProxy.Proxy;

/// <summary>
/// A pipeline step with work to do once the response is over (answering a forwarding failure, settling the key's
/// limits, remembering thought signatures). The step registers itself on the request when it applies; the first
/// middleware runs the registered steps, last registered first, after the rest of the pipeline returned or threw.
/// Registering costs a slot in the request, where awaiting the rest of the pipeline would cost each step an async
/// frame on every request.
/// </summary>
internal interface IRequestCompletion
{
    Task CompleteAsync(HttpContext context, GatewayRequest request);
}
