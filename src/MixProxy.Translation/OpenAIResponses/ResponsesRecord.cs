using System.Security.Cryptography;
using System.Text.Json;

namespace MixProxy.Translation.OpenAIResponses;

/// <summary>
/// The record the gateway keeps of a stored response: <c>{"response": …, "input": […], "context": […]}</c>. The
/// response is what the client got (what <c>GET</c> returns); the input, the request's items with their ids (what
/// <c>input_items</c> lists); the context, every item of the conversation up to and including this response's output,
/// with the thought signatures sealed in reasoning items whether or not the client asked to see them, so that a
/// request continuing it (<c>previous_response_id</c>) is one read, however long the chain.
/// </summary>
public static class ResponsesRecord
{
    public const string Response = "response";
    public const string Input = "input";
    public const string Context = "context";

    public const string ResponseIdPrefix = "resp_";

    /// <summary>A fresh id with OpenAI's prefixes (<c>resp_</c>, <c>msg_</c>, <c>fc_</c>, <c>rs_</c>): 24 random bytes in hex.</summary>
    public static string NewId(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public static JsonDocument Parse(ReadOnlySpan<byte> record)
    {
        var reader = new Utf8JsonReader(record);
        return JsonDocument.ParseValue(ref reader);
    }
}
