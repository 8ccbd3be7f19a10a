using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIResponses;

/// <summary>
/// <c>GET</c> and <c>DELETE /v1/responses/{id}</c> and <c>GET /v1/responses/{id}/input_items</c> on the responses the
/// gateway stored (translated routes). A record is <c>{"response": …, "input": […], "context": […]}</c>: the response
/// as the client got it, the request's input items (with ids), and the whole conversation so far, which a later
/// <c>previous_response_id</c> continues (<see cref="ResponsesRecord"/>).
/// </summary>
public sealed class StoredResponses : StoredResultApi
{
    public static StoredResponses Instance { get; } = new();

    private static readonly System.Buffers.SearchValues<char> IdCharacters = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

    private const int DefaultPageSize = 20;
    private const int MaxPageSize = 100;

    private StoredResponses()
    {
    }

    public override string IdRouteValue => OpenAIResponsesVocabulary.ResponseIdRouteValue;

    public override string ItemPath => OpenAIResponsesVocabulary.ResponsesPath + "/{" + OpenAIResponsesVocabulary.ResponseIdRouteValue + "}";

    public override string? InputItemsPath => ItemPath + "/input_items";

    public override bool IsWellFormedId(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return id.Length is > 5 and <= 128 && id.StartsWith(ResponsesRecord.ResponseIdPrefix, StringComparison.Ordinal)
            && id.AsSpan(ResponsesRecord.ResponseIdPrefix.Length).IndexOfAnyExcept(IdCharacters) < 0;
    }

    public override string NotFoundMessage(string id) => $"Response with id '{id}' not found.";

    public override void WriteResult(ReadOnlySpan<byte> record, IBufferWriter<byte> output)
    {
        using var document = ResponsesRecord.Parse(record);
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        document.RootElement.GetProperty(ResponsesRecord.Response).WriteTo(writer);
    }

    public override void WriteInputItems(ReadOnlySpan<byte> record, IReadOnlyDictionary<string, string> query, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = DefaultPageSize;
        if (query.TryGetValue("limit", out var asked) && (!int.TryParse(asked, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxPageSize))
        {
            throw new TranslationException("limit", $"'limit' must be a whole number from 1 to {MaxPageSize}.");
        }

        var ascending = false;
        if (query.TryGetValue("order", out var order))
        {
            ascending = order switch
            {
                "asc" => true,
                "desc" => false,
                _ => throw new TranslationException("order", "'order' must be 'asc' or 'desc'."),
            };
        }

        query.TryGetValue("after", out var after);

        using var document = ResponsesRecord.Parse(record);
        var items = document.RootElement.GetProperty(ResponsesRecord.Input).EnumerateArray().ToList();
        if (!ascending)
        {
            items.Reverse();
        }

        var start = 0;
        if (after is not null)
        {
            start = items.FindIndex(item => item.TryGetProperty("id"u8, out var id) && id.ValueEquals(after)) + 1;
            if (start == 0)
            {
                throw new TranslationException("after", $"No input item with id '{after}'.");
            }
        }

        var page = items.Skip(start).Take(limit).ToList();
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("object"u8, "list");
        writer.WritePropertyName("data"u8);
        writer.WriteStartArray();
        foreach (var item in page)
        {
            item.WriteTo(writer);
        }

        writer.WriteEndArray();
        writer.WriteString("first_id"u8, page.Count > 0 ? IdOf(page[0]) : null);
        writer.WriteString("last_id"u8, page.Count > 0 ? IdOf(page[^1]) : null);
        writer.WriteBoolean("has_more"u8, start + page.Count < items.Count);
        writer.WriteEndObject();
    }

    public override void WriteDeleted(string id, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("id"u8, id);
        writer.WriteString("object"u8, "response");
        writer.WriteBoolean("deleted"u8, true);
        writer.WriteEndObject();
    }

    private static string? IdOf(JsonElement item) => item.TryGetProperty("id"u8, out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
}
