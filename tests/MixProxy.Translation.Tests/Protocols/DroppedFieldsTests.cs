using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>
/// The drop-and-report policy: a sampling hint the upstream has no place for goes upstream without it and is
/// reported by the call; a model set to StrictTranslation refuses it instead; a value of the wrong type is refused
/// either way.
/// </summary>
public sealed class DroppedFieldsTests
{
    private const string Pair = "gemini-to-openai-chat";
    private static readonly UpstreamModelProfile Chat = new() { UpstreamModel = "gpt-x" };

    private const string GeminiCliRequest = """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"temperature":0.7,"topP":0.95,"topK":64}}""";

    [Fact]
    public void TopKOnAChatUpstream_IsDroppedAndReported_AndTheRestGoesUp()
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, GeminiCliRequest), Chat);

        Assert.Equal(["generationConfig.topK"], call.Dropped);
        var sent = JsonNode.Parse(call.Request.Body!.Value.Span)!.AsObject();
        Assert.False(sent.ContainsKey("top_k"));
        Assert.Equal(0.95, sent["top_p"]!.GetValue<double>());
    }

    [Fact]
    public void TopKOnAStrictModel_IsRefusedNamingIt()
    {
        var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, GeminiCliRequest), Chat with { StrictTranslation = true }));

        Assert.Equal("generationConfig.topK", error.Param);
        Assert.Contains("StrictTranslation", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TopKOfTheWrongType_IsRefusedEvenWhenItWouldBeDropped()
    {
        var request = ExchangeHarness.Parse(Pair, """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"topK":"many"}}""");

        Assert.Equal("generationConfig.topK", Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(Pair, request, Chat)).Param);
    }

    [Fact]
    public void SafetySettingsAndLabels_AreDroppedAndReported_AndAWrongTypeIsRefused()
    {
        var request = ExchangeHarness.Parse(Pair, """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],"labels":{"team":"search"}}""");

        var call = ExchangeHarness.Begin(Pair, request, Chat);

        Assert.Equal(["safetySettings", "labels"], call.Dropped);
        var sent = JsonNode.Parse(call.Request.Body!.Value.Span)!.AsObject();
        Assert.False(sent.ContainsKey("safetySettings") || sent.ContainsKey("labels"));
        var wrong = ExchangeHarness.Parse(Pair, """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"labels":"team"}""");
        Assert.Equal("labels", Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(Pair, wrong, Chat)).Param);
    }

    [Fact]
    public void NothingDropped_ReportsNothing()
    {
        var call = ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}"""), Chat);

        Assert.Empty(call.Dropped);
    }

    [Theory]
    [InlineData("generationConfig.topK", "generationConfig.topK")]
    [InlineData("contents[3].parts[12].videoMetadata", "contents[].parts[].videoMetadata")]
    public void Shape_LeavesOutArrayPositions_SoMetricLabelsStayBounded(string field, string shape) =>
        Assert.Equal(shape, DroppedFields.Shape(field));
}
