using System.Net;
using System.Net.Sockets;
using System.Text;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// A request too large in its head (path, query, headers) is refused with 414 or 431 and an error body in the caller's
/// protocol, by the gateway's own documented limits (<c>MixProxy:RequestLimits</c>), before any upstream call; Kestrel's
/// own limits sit above them as a backstop. What Kestrel still refuses itself, before the gateway can see the
/// request, is pinned here exactly as docs/configuration.md describes it (issue 15, item 6).
/// </summary>
public sealed class ServerLevelRefusalTests
{
    private const string GeminiPath = "/v1beta/models/gemini-3.1-pro-preview:generateContent";
    private const string GeminiBody = """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""";
    private const string ChatPath = "/v1/chat/completions";
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""";

    public enum Protocol
    {
        OpenAI,
        Google,
    }

    /// <summary>Each oversized part of a request head, on each protocol's path; every size is past the gateway's limit and under Kestrel's backstop.</summary>
    public static TheoryData<string, string, Protocol, int, string> OversizedHeads() => new()
    {
        { "a model name of 9,000 characters", "/v1beta/models/" + new string('m', 9000) + ":generateContent", Protocol.Google, 414, "path" },
        { "a query of 9,000 characters", GeminiPath + "?filler=" + new string('q', 9000), Protocol.Google, 414, "query" },
        { "a query of 9,000 characters", ChatPath + "?filler=" + new string('q', 9000), Protocol.OpenAI, 414, "query" },
        { "a path of 9,000 characters", "/v1/chat/completions/" + new string('p', 9000), Protocol.OpenAI, 414, "path" },
        { "150 headers", GeminiPath, Protocol.Google, 431, "150" },
        { "150 headers", ChatPath, Protocol.OpenAI, 431, "150" },
        { "40 KB of headers", GeminiPath, Protocol.Google, 431, "40k" },
        { "40 KB of headers", ChatPath, Protocol.OpenAI, 431, "40k" },
    };

    [Theory]
    [MemberData(nameof(OversizedHeads))]
    public async Task OversizedRequestHead_IsRefusedInTheCallersProtocol_AndTheNextRequestIsServed(string what, string path, Protocol protocol, int status, string part)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        var body = protocol == Protocol.Google ? GeminiBody : ChatBody;
        var headers = part switch
        {
            "150" => Enumerable.Range(0, 150).Select(i => ($"x-filler-{i}", "v")).ToArray(),
            "40k" => Enumerable.Range(0, 5).Select(i => ($"x-filler-{i}", new string('h', 8 * 1024))).ToArray(),
            _ => [],
        };

        var (refused, error, response) = await client.PostJsonAsync(path, body, headers);

        Assert.True((int)refused == status, $"{what}: {(int)refused}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        if (protocol == Protocol.Google)
        {
            HttpHelpers.AssertGoogleError(error, status, "INVALID_ARGUMENT");
        }
        else
        {
            HttpHelpers.AssertOpenAIError(error);
            Assert.Equal("invalid_request_error", error!["error"]!["type"]!.GetValue<string>());
        }

        Assert.Contains(status == 414 ? part : "header", error!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(gateway.Upstream.Received);

        var (next, _, _) = await client.PostJsonAsync(protocol == Protocol.Google ? GeminiPath : ChatPath, body);
        Assert.Equal(HttpStatusCode.OK, next);
    }

    [Fact]
    public async Task RequestLimits_AreSettings_BoundAtStartUp()
    {
        await using var gateway = await GatewayFixture.StartAsync(args: ["--MixProxy:RequestLimits:MaxQueryLength=100"]);
        using var client = gateway.CreateClient();

        var (refused, error, _) = await client.PostJsonAsync(ChatPath + "?filler=" + new string('q', 200), ChatBody);
        var (served, _, _) = await client.PostJsonAsync(ChatPath + "?filler=" + new string('q', 50), ChatBody);

        Assert.Equal(HttpStatusCode.RequestUriTooLong, refused);
        Assert.Contains("100", error!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, served);
    }

    [Theory]
    [InlineData("--MixProxy:RequestLimits:MaxPathLength=0", "MaxPathLength")]
    [InlineData("--MixProxy:RequestLimits:MaxHeaderCount=100000", "MaxHeaderCount")]
    [InlineData("--Kestrel:Limits:MaxRequestLineSize=4096", "Kestrel:Limits:MaxRequestLineSize")]
    [InlineData("--Kestrel:Limits:MaxRequestHeadersTotalSize=32768", "Kestrel:Limits:MaxRequestHeadersTotalSize")]
    [InlineData("--Kestrel:Limits:MaxRequestHeaderCount=100", "Kestrel:Limits:MaxRequestHeaderCount")]
    public async Task RequestLimits_ThatCannotWork_StopTheGatewayAtStartUp_NamingTheSetting(string setting, string named)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayFixture.StartAsync(args: [setting]));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Past Kestrel's backstop (four times the gateway's limits), and for a path whose escapes decode to a null
    /// character, Kestrel answers while parsing the request line or headers, before any middleware runs: the status
    /// alone, an empty body, and the connection closed. docs/configuration.md documents exactly this.
    /// </summary>
    [Theory]
    [InlineData("POST /v1beta/models/gem%00ini:generateContent HTTP/1.1\r\nHost: gateway\r\nContent-Length: 2\r\n\r\n{}", 400)]
    [InlineData("POST /v1/chat/completions%00 HTTP/1.1\r\nHost: gateway\r\nContent-Length: 2\r\n\r\n{}", 400)]
    [InlineData("POST /v1beta/models/{40000}:generateContent HTTP/1.1\r\nHost: gateway\r\nContent-Length: 2\r\n\r\n{}", 414)]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nx-filler: {140000}\r\nContent-Length: 2\r\n\r\n{}", 431)]
    [InlineData("POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\n{500 headers}Content-Length: 2\r\n\r\n{}", 431)]
    public async Task PastKestrelsBackstop_OrANullInThePath_KestrelAnswersItself_WithAnEmptyBody(string request, int status)
    {
        await using var gateway = await GatewayFixture.StartAsync();
        var raw = request
            .Replace("{40000}", new string('m', 40000), StringComparison.Ordinal)
            .Replace("{140000}", new string('h', 140000), StringComparison.Ordinal)
            .Replace("{500 headers}", string.Concat(Enumerable.Range(0, 500).Select(i => $"x-filler-{i}: v\r\n")), StringComparison.Ordinal);

        var head = await SendRawAsync(gateway.BaseAddress, raw);

        Assert.StartsWith($"HTTP/1.1 {status} ", head, StringComparison.Ordinal);
        Assert.Contains("\r\nContent-Length: 0\r\n", head, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\r\nConnection: close\r\n", head, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(gateway.Upstream.Received);
    }

    /// <summary>Writes <paramref name="request"/> as it is and reads the answer until the server closes the connection (10 s at most).</summary>
    private static async Task<string> SendRawAsync(Uri address, string request)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        using var socket = new TcpClient();
        await socket.ConnectAsync(address.Host, address.Port, timeout.Token);
        var stream = socket.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
        }
        catch (IOException)
        {
            // Kestrel may answer and close before it has read all of an oversized head: the answer is still there.
        }

        var answer = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                answer.Write(buffer, 0, read);
            }
        }
        catch (IOException) when (answer.Length > 0)
        {
            // A reset after the answer (unread request bytes left behind) ends the read as well as a close does.
        }

        return Encoding.ASCII.GetString(answer.ToArray());
    }
}
