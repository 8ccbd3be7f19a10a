using System.Text;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.Tests.Json;

/// <summary>Replacing the strings at one path of a body: those change, and not one other byte does.</summary>
public sealed class JsonStringSpliceTests
{
    private static readonly JsonPathPattern Path = JsonPathPattern.Parse("contents[].parts[].sig|sig_alt");

    private static string? Replace(string json, JsonPathPattern? path = null) =>
        JsonStringSplice.ReplaceStrings(Encoding.UTF8.GetBytes(json), path ?? Path, "\"NEW\""u8) is { } replaced ? Encoding.UTF8.GetString(replaced.Span) : null;

    [Fact]
    public void ReplaceStrings_ValuesOnThePath_AreReplacedAndEveryOtherByteKept()
    {
        const string json = """
            { "contents" : [ {"parts":[{"text":"a\u00e9\"b", "sig" :"c2ln"}, {"sig_alt":"eA=="}]},
              {"role":"model","parts":[ {"n": 1.50E+2}, {"sig":""} ]} ],
              "sig": "top", "other": {"contents": [{"parts": [{"sig": "deep"}]}]} }
            """;

        var replaced = Replace(json);

        Assert.Equal(
            json.Replace("\"c2ln\"", "\"NEW\"", StringComparison.Ordinal)
                .Replace("\"eA==\"", "\"NEW\"", StringComparison.Ordinal)
                .Replace("{\"sig\":\"\"}", "{\"sig\":\"NEW\"}", StringComparison.Ordinal),
            replaced);
    }

    [Fact]
    public void ReplaceStrings_NothingOnThePath_IsNullSoTheBodyGoesAsItCame()
    {
        Assert.Null(Replace("""{"contents":[{"parts":[{"text":"sig"}]}],"sig":"x"}"""));
        Assert.Null(Replace("""{"contents":{"parts":[{"sig":"x"}]}}"""));
        Assert.Null(Replace("""[{"contents":[{"parts":[{"sig":"x"}]}]}]"""));
        Assert.Null(Replace("\"just a string\""));
    }

    [Fact]
    public void ReplaceStrings_ValueOfAnotherTypeOnThePath_IsLeftForTheUpstreamToRefuse()
    {
        Assert.Null(Replace("""{"contents":[{"parts":[{"sig":5},{"sig":null},{"sig":{"sig":"x"}},{"sig":["x"]}]}]}"""));
    }

    [Fact]
    public void ReplaceStrings_EscapedPropertyName_MatchesAsItsText()
    {
        Assert.Equal("""{"contents":[{"parts":[{"\u0073ig":"NEW"}]}]}""", Replace("""{"contents":[{"parts":[{"\u0073ig":"x\"y"}]}]}"""));
    }

    [Fact]
    public void ReplaceStrings_AnotherPath_IsWalkedTheSameWay()
    {
        var path = JsonPathPattern.Parse("messages[].tool_calls[].extra_content.google.thought_signature");

        Assert.Equal(
            """{"messages":[{"tool_calls":[{"extra_content":{"google":{"thought_signature":"NEW","x":1}}},{"id":"b"}]}]}""",
            Replace("""{"messages":[{"tool_calls":[{"extra_content":{"google":{"thought_signature":"s1","x":1}}},{"id":"b"}]}]}""", path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a..b")]
    [InlineData("a|")]
    [InlineData("[]")]
    [InlineData("a[")]
    [InlineData("a[]x")]
    public void Parse_MalformedPattern_IsRefused(string pattern)
    {
        Assert.ThrowsAny<ArgumentException>(() => JsonPathPattern.Parse(pattern));
    }
}
