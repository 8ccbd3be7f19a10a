using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>Reading a key from where a client put it, and writing the gateway's own where an upstream takes it.</summary>
public sealed class CredentialSourceTests
{
    [Theory]
    [InlineData("Bearer abc", "abc")]
    [InlineData("bearer abc ", "abc")]
    [InlineData("Bearer ", null)]
    [InlineData("Bearer", null)]
    [InlineData("Basic abc", null)]
    [InlineData("Bearerabc", null)]
    public void Read_AuthorizationHeader_TakesTheTokenAfterTheScheme(string header, string? expected)
    {
        var head = new ExchangeHarness.FakeHead();
        head.Headers["Authorization"] = header;

        Assert.Equal(expected, CredentialSource.BearerToken.Read(head));
    }

    [Fact]
    public void Read_EmptyQueryValue_IsNoKey()
    {
        var head = new ExchangeHarness.FakeHead();
        head.QueryValues["key"] = string.Empty;

        Assert.Null(new CredentialSource(CredentialLocation.Query, "key").Read(head));
    }

    [Fact]
    public void Format_WithAndWithoutScheme_IsWhatTheUpstreamReads()
    {
        Assert.Equal("Bearer s3cret", CredentialSource.BearerToken.Format("s3cret"));
        Assert.Equal("s3cret", new CredentialSource(CredentialLocation.Header, "x-api-key").Format("s3cret"));
    }
}
