using System.Text;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>
/// What the response side of a translated Responses request knows from the request side: the response's id and
/// time, the model the client named, the request's settings the response object repeats (<see cref="Echo"/>), whether
/// reasoning items show their sealed signatures, and, when the response is stored, the input and the conversation it
/// continues, for the record.
/// </summary>
internal sealed class ResponsesReplyContext
{
    public required string ResponseId { get; init; }

    public required long CreatedAt { get; init; }

    public required string ClientModel { get; init; }

    /// <summary>The request's settings as the response object repeats them (<c>instructions</c>, <c>tools</c>, <c>text</c>…), an object's UTF-8 bytes.</summary>
    public required ReadOnlyMemory<byte> Echo { get; init; }

    public bool IncludeEncryptedReasoning { get; init; }

    /// <summary>Add <c>output_text</c>, the whole text of the answer (the provider page's <c>output.text</c>; <c>output</c> is a list here).</summary>
    public bool OutputText { get; init; }

    /// <summary>The request's input items with their ids (a JSON array); null when the response is not stored.</summary>
    public ReadOnlyMemory<byte>? StoredInput { get; init; }

    /// <summary>The conversation the request continues (a JSON array of items); null when it continues none.</summary>
    public ReadOnlyMemory<byte>? PriorContext { get; init; }

    /// <summary>The request asked for Google Search (<c>web_search</c>): its citations come as <c>url_citation</c> annotations.</summary>
    public bool WebSearch { get; init; }
}

/// <summary>The state of a response being built: its items in order, and how it ended.</summary>
internal sealed class ResponsesReply
{
    public List<OutputItem> Items { get; } = [];

    /// <summary>How many items the client sees (the next visible item's <c>output_index</c>).</summary>
    public int VisibleCount { get; private set; }

    public string Status { get; set; } = "in_progress";

    /// <summary><c>incomplete_details.reason</c> when <see cref="Status"/> is <c>incomplete</c>.</summary>
    public string? IncompleteReason { get; set; }

    /// <summary>The error of a <c>failed</c> response: OpenAI's <c>code</c> and message.</summary>
    public (string Code, string Message)? Error { get; set; }

    public TokenUsage? Usage { get; set; }

    /// <summary>The Chat usage's own <c>extra_content</c> (Gemini's counts per modality), as JSON; null when none.</summary>
    public string? UsageExtraContent { get; set; }

    /// <summary>What the answer says that Responses has no field for: the response's <c>extra_content</c>.</summary>
    public VendorContent Vendor { get; } = new();

    public T Add<T>(T item)
        where T : OutputItem
    {
        item.OutputIndex = item.Visible ? VisibleCount++ : -1;
        Items.Add(item);
        return item;
    }

    /// <summary>The text of every message, joined: the SDKs' <c>output_text</c>.</summary>
    public string Text()
    {
        // The usual answer has one message: its text as it is, without a second builder.
        MessageItem? first = null;
        var several = false;
        foreach (var item in Items)
        {
            if (item is MessageItem message)
            {
                several |= first is not null;
                first ??= message;
            }
        }

        if (!several)
        {
            return first?.Text.ToString() ?? string.Empty;
        }

        var text = new StringBuilder();
        foreach (var item in Items)
        {
            if (item is MessageItem message)
            {
                text.Append(message.Text);
            }
        }

        return text.ToString();
    }
}

/// <summary>One item of a response's <c>output</c>.</summary>
internal abstract class OutputItem(string id, bool visible)
{
    public string Id { get; } = id;

    /// <summary>Whether the client sees it: a reasoning item that only carries a signature is kept for the record alone unless asked for.</summary>
    public bool Visible { get; } = visible;

    /// <summary>Its <c>output_index</c> among the items the client sees; -1 when hidden.</summary>
    public int OutputIndex { get; set; }

    public bool Done { get; set; }
}

internal sealed class ReasoningItem(string id, bool visible) : OutputItem(id, visible)
{
    public StringBuilder? Summary { get; set; }

    /// <summary>The thought signature it carries (sealed into <c>encrypted_content</c>); null when none.</summary>
    public string? Signature { get; set; }
}

internal sealed class MessageItem(string id) : OutputItem(id, visible: true)
{
    public StringBuilder Text { get; } = new();

    public StringBuilder? Refusal { get; set; }

    public List<ChatUrlCitation> Annotations { get; } = [];

    /// <summary>The text's token logprobs, each entry as JSON (Chat's entries have the Responses' shape already).</summary>
    public List<string> Logprobs { get; } = [];

    /// <summary>Whether the text part was opened (a refusal-only message has none).</summary>
    public bool HasTextPart { get; set; }

    /// <summary>The <c>content_index</c> of the refusal part: after the text part when there is one.</summary>
    public int RefusalIndex => HasTextPart ? 1 : 0;
}

internal sealed class FunctionCallItem(string id, string callId, string name) : OutputItem(id, visible: true)
{
    public string CallId { get; } = callId;

    public string Name { get; set; } = name;

    public StringBuilder Arguments { get; } = new();
}

/// <summary>
/// An image the model drew (Chat's <c>message.images</c>, from Gemini's image output): OpenAI's
/// <c>image_generation_call</c> item, with the image as base64 in <c>result</c>.
/// </summary>
internal sealed class ImageGenerationCallItem(string id, string? mimeType, string data) : OutputItem(id, visible: true)
{
    public string? MimeType { get; } = mimeType;

    public string Data { get; } = data;
}


/// <summary>Ids for the items of a response, with OpenAI's prefixes.</summary>
internal static class ItemIds
{
    public static string Message() => ResponsesRecord.NewId("msg_");

    public static string FunctionCall() => ResponsesRecord.NewId("fc_");

    public static string Reasoning() => ResponsesRecord.NewId("rs_");

    public static string ImageGenerationCall() => ResponsesRecord.NewId("ig_");
}
