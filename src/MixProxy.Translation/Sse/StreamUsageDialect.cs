using System.Text.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Sse;

/// <summary>How one protocol's streams report usage, for <see cref="StreamUsageScanner"/>.</summary>
/// <param name="UsageKey">The quoted property name of a chunk's usage object, as UTF-8 (<c>"usage"</c>).</param>
/// <param name="FinishKeys">
/// Quoted JSON text one of which every complete stream carries at least once (Gemini's <c>"finishReason"</c>; the
/// Responses API's terminal event types); null when the protocol has none to rely on, and only errors and cut-off
/// objects mark a stream incomplete.
/// </param>
/// <param name="ReadUsageObject">Reads a usage object; null when it carries no token counts.</param>
public sealed record StreamUsageDialect(byte[] UsageKey, byte[][]? FinishKeys, Func<JsonElement, TokenUsage?> ReadUsageObject);
