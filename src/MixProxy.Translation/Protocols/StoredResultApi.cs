using System.Buffers;

namespace MixProxy.Translation.Protocols;

/// <summary>
/// The operations a client API offers on the results the gateway stored for it (the Responses API's
/// <c>GET /v1/responses/{id}</c>, its input items and <c>DELETE</c>). The host maps the paths, checks the key and
/// loads or deletes the record of that key; this says what the paths are and writes the answers from a record.
/// </summary>
public abstract class StoredResultApi
{
    /// <summary>The route value that holds the result's id in <see cref="ItemPath"/> and <see cref="InputItemsPath"/>.</summary>
    public abstract string IdRouteValue { get; }

    /// <summary>The path of one result (<c>GET</c> reads it, <c>DELETE</c> deletes it).</summary>
    public abstract string ItemPath { get; }

    /// <summary>The path that lists the input a result was made from; null when the API has none.</summary>
    public abstract string? InputItemsPath { get; }

    /// <summary>Whether an id has the form this API issues (anything else is a 404 without a lookup).</summary>
    public abstract bool IsWellFormedId(string id);

    /// <summary>The message for an id the caller's key has no result under.</summary>
    public abstract string NotFoundMessage(string id);

    /// <summary>The result as a read returns it.</summary>
    public abstract void WriteResult(ReadOnlySpan<byte> record, IBufferWriter<byte> output);

    /// <summary>
    /// The page of input items a list request asks for; <paramref name="query"/> is the request's query. Throws
    /// <see cref="TranslationException"/> on a bad query parameter.
    /// </summary>
    public abstract void WriteInputItems(ReadOnlySpan<byte> record, IReadOnlyDictionary<string, string> query, IBufferWriter<byte> output);

    /// <summary>The answer to a delete that removed the result.</summary>
    public abstract void WriteDeleted(string id, IBufferWriter<byte> output);
}
