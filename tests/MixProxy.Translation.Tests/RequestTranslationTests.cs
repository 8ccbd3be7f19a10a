using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using MixProxy.Translation.Chat;

namespace MixProxy.Translation.Tests;

/// <summary>
/// OpenAI request → Gemini request. Each case folder holds <c>input.json</c> (what the client sent),
/// optionally <c>profile.json</c> (the model's capabilities from the model map), and either
/// <c>expected.json</c> (the body the upstream must receive) or <c>expected-error.json</c> (<c>param</c> and <c>message</c> fragment of the 400).
/// </summary>
public sealed class RequestTranslationTests
{
    private const string Kind = "request";

    private static readonly JsonSerializerOptions ProfileJson = new() { PropertyNameCaseInsensitive = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public static TheoryData<string> Cases => GoldenCase.Cases(Kind);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Translate_GoldenCase_MatchesExpectedUpstreamBodyOrError(string name)
    {
        using var input = JsonDocument.Parse(GoldenCase.Read(Kind, name, "input.json"));
        var profile = GoldenCase.Has(Kind, name, "profile.json")
            ? JsonSerializer.Deserialize<UpstreamModelProfile>(GoldenCase.Read(Kind, name, "profile.json"), ProfileJson)!
            : new UpstreamModelProfile { UpstreamModel = "gemini-3.1-pro-preview", Thinking = ThinkingStyle.Level, ThinkingLevels = ["low", "high"], SupportsSearchWithFunctions = true };
        var output = new ArrayBufferWriter<byte>();

        if (GoldenCase.Has(Kind, name, "expected-error.json"))
        {
            var expected = GoldenCase.ReadJson(Kind, name, "expected-error.json");
            var error = Assert.Throws<TranslationException>(() => ChatToGeminiRequestTranslator.Translate(input.RootElement, profile, output));
            Assert.Equal(expected["param"]?.GetValue<string>(), error.Param);
            Assert.Contains(expected["message"]!.GetValue<string>(), error.Message, StringComparison.Ordinal);
            return;
        }

        ChatToGeminiRequestTranslator.Translate(input.RootElement, profile, output);
        GoldenCase.AssertJsonMatches(GoldenCase.ReadJson(Kind, name, "expected.json"), JsonNode.Parse(output.WrittenSpan));
    }

    [Theory]
    [InlineData("none", new[] { "low", "high" }, "low")]
    [InlineData("minimal", new[] { "low", "high" }, "low")]
    [InlineData("medium", new[] { "low", "high" }, "high")]
    [InlineData("xhigh", new[] { "low", "high" }, "high")]
    [InlineData("minimal", new[] { "minimal", "low", "medium", "high" }, "minimal")]
    [InlineData("medium", new[] { "minimal", "low", "medium", "high" }, "medium")]
    [InlineData("none", new[] { "minimal", "low", "medium", "high" }, "minimal")]
    public void ChooseLevel_EffortOnGemini3_TakesTheNearestLevelTheModelAccepts(string effort, string[] levels, string expected) =>
        Assert.Equal(expected, ChatToGeminiRequestTranslator.ChooseLevel(effort, levels));
}
