using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.AnthropicMessagesToOpenAIChat;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.AnthropicMessagesToGemini;

/// <summary>
/// <c>POST /v1/messages/count_tokens</c> on Gemini: the <c>generateContent</c> body the same messages would send
/// (system, tools and all) goes to <c>countTokens</c> as its <c>generateContentRequest</c>, and Gemini's
/// <c>totalTokens</c> comes back as Anthropic's <c>input_tokens</c>. Errors come back as the bridge's do.
/// </summary>
internal sealed class GeminiCountTokensCall(UpstreamRequest request, ExchangeCall generation) : ExchangeCall(request, generation.Outcome)
{
    public static ExchangeCall Begin(UpstreamRequest generation, ExchangeCall inner, string upstreamModel)
    {
        var body = new ArrayBufferWriter<byte>((generation.Body?.Length ?? 0) + 64);
        using (var writer = new Utf8JsonWriter(body, WireJson.WriterOptions))
        {
            using var document = JsonDocument.Parse(generation.Body!.Value);
            writer.WriteStartObject();
            writer.WritePropertyName("generateContentRequest"u8);
            writer.WriteStartObject();
            writer.WriteString("model"u8, "models/" + upstreamModel);
            foreach (var field in document.RootElement.EnumerateObject())
            {
                field.WriteTo(writer);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return new GeminiCountTokensCall(new UpstreamRequest(body.WrittenMemory, GeminiVocabulary.Path(upstreamModel, GeminiVocabulary.CountTokens), Query: []), inner);
    }

    public override bool RestatesErrors => true;

    public override TranslatedError TranslateError(int status, ReadOnlySpan<byte> body)
    {
        var restated = generation.TranslateError(status, body);
        return ChatToAnthropicErrorTranslator.Translate(restated.StatusCode, restated.Body, restated.RetryAfter);
    }

    public override string? TranslateResponse(ReadOnlySpan<byte> body, string? upstreamContentType, IBufferWriter<byte> output)
    {
        long total;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = UpstreamFields.RequireObject(document.RootElement, "countTokens response");

            // proto3 JSON leaves a zero out: an empty answer counted nothing.
            total = UpstreamFields.Field(root, "totalTokens") is { ValueKind: not JsonValueKind.Undefined } value
                ? UpstreamFields.Int64OrNone(value) ?? throw UpstreamFields.WrongType("totalTokens")
                : 0;
        }
        catch (JsonException e)
        {
            throw new UpstreamResponseException("The upstream's countTokens response is not valid JSON: " + e.Message, e);
        }

        using var output2 = new Utf8JsonWriter(output, WireJson.WriterOptions);
        output2.WriteStartObject();
        output2.WriteNumber("input_tokens"u8, total);
        output2.WriteEndObject();
        return "application/json";
    }

    public override StreamReply TranslateStream(Stream upstream, string? upstreamMediaType, CancellationToken cancellationToken) =>
        throw new UpstreamResponseException("Token counting does not stream.");
}
