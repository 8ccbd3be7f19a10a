using System.Text;
using MixProxy.Translation.Json;

namespace MixProxy.Translation.Tests.Json;

/// <summary>How deep a body nests, as the gateway counts it: objects and arrays, not brackets inside strings.</summary>
public sealed class JsonTextDepthTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(JsonText.MaxDepth, false)]
    [InlineData(JsonText.MaxDepth + 1, true)]
    [InlineData(10_000, true)]
    public void NestsTooDeep_CountsNestedArrays(int levels, bool tooDeep)
    {
        var json = Encoding.UTF8.GetBytes(new string('[', levels) + new string(']', levels));

        Assert.Equal(tooDeep, JsonText.NestsTooDeep(json));
    }

    [Fact]
    public void NestsTooDeep_CountsObjectsAndArraysAlike()
    {
        var json = new StringBuilder();
        for (var i = 0; i <= JsonText.MaxDepth; i++)
        {
            json.Append(i % 2 == 0 ? "{\"a\":" : "[");
        }

        json.Append("null");
        for (var i = JsonText.MaxDepth; i >= 0; i--)
        {
            json.Append(i % 2 == 0 ? "}" : "]");
        }

        Assert.True(JsonText.NestsTooDeep(Encoding.UTF8.GetBytes(json.ToString())));
    }

    [Fact]
    public void NestsTooDeep_IgnoresBracketsInsideStrings_EscapedQuotesIncluded()
    {
        var brackets = new string('[', 200) + new string('{', 200);
        var json = Encoding.UTF8.GetBytes($$"""{"text":"{{brackets}} \" {{brackets}}","other":["\\",{"k":"{{brackets}}"}]}""");

        Assert.False(JsonText.NestsTooDeep(json));
    }
}
