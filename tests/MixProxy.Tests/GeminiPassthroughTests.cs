using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

public sealed class GeminiPassthroughTests
{
    private const string HelloRequest = """{"contents":[{"role":"user","parts":[{"text":"Hello"}]}],"tools":[{"function":{"name":"web_search"},"type":"function"}]}""";

    [Fact]
    public async Task GenerateContent_SameProtocol_ForwardsBodyUntouchedAndSwapsCredentials()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1beta/models/gemini-3.1-pro-preview:generateContent?key=" + GatewayFixture.ClientKey)
        {
            Content = new StringContent(HelloRequest, Encoding.UTF8, "application/json"),
        };

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        var upstream = Assert.Single(gateway.Upstream.Received);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HelloRequest, upstream.Body);
        Assert.Equal("/v1beta/models/gemini-3.1-pro-preview:generateContent", upstream.Path);
        Assert.Equal(string.Empty, upstream.Query);
        Assert.Equal("Bearer " + GatewayFixture.UpstreamSecret, upstream.Headers["authorization"]);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal("Hello from the MixProxy simulator. You said: Hello", body["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(body["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>(), body["output"]!["text"]!.GetValue<string>());
    }
}
