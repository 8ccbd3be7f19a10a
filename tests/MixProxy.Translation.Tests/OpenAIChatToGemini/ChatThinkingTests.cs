using MixProxy.Translation.OpenAIChatToGemini;

namespace MixProxy.Translation.Tests.OpenAIChatToGemini;

/// <summary>How an OpenAI reasoning effort lands on the thinking levels a Gemini 3 model accepts.</summary>
public sealed class ChatThinkingTests
{
    [Theory]
    [InlineData("none", new[] { "low", "high" }, "low")]
    [InlineData("minimal", new[] { "low", "high" }, "low")]
    [InlineData("medium", new[] { "low", "high" }, "high")]
    [InlineData("xhigh", new[] { "low", "high" }, "high")]
    [InlineData("minimal", new[] { "minimal", "low", "medium", "high" }, "minimal")]
    [InlineData("medium", new[] { "minimal", "low", "medium", "high" }, "medium")]
    [InlineData("none", new[] { "minimal", "low", "medium", "high" }, "minimal")]
    public void ChooseLevel_EffortOnGemini3_TakesTheNearestLevelTheModelAccepts(string effort, string[] levels, string expected) =>
        Assert.Equal(expected, ChatThinking.ChooseLevel(effort, levels));
}
