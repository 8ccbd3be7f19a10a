using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MixProxy.Auth;
using MixProxy.Tests.Infrastructure;
using MixProxy.Translation.Protocols;

namespace MixProxy.Tests.HostileInput;

/// <summary>
/// One gateway and simulator for a whole battery class: a model per upstream protocol of the registry
/// (<c>battery-&lt;protocol&gt;</c>), three keys (two that may use every model, one that may use none), a 1 MB body
/// limit, and the helpers every case uses: send bytes, check an error's shape, check the next good request is served.
/// </summary>
public sealed class BatteryGateway : IAsyncLifetime
{
    /// <summary>The body limit the battery runs with, so a body over it is cheap to send.</summary>
    public const int BodyLimit = 1024 * 1024;

    private GatewayFixture? _gateway;

    public string ClientKey { get; } = "battery-client-" + Guid.NewGuid().ToString("N");

    public string SecondClientKey { get; } = "battery-second-" + Guid.NewGuid().ToString("N");

    public string RestrictedKey { get; } = "battery-restricted-" + Guid.NewGuid().ToString("N");

    /// <summary>Every client key the battery sends, valid or not, for the leak scan.</summary>
    public HashSet<string> KeysSent { get; } = new(StringComparer.Ordinal);

    public GatewayFixture Gateway => _gateway ?? throw new InvalidOperationException("Not started.");

    /// <summary>The battery's model served over <paramref name="protocol"/>.</summary>
    public static string ModelFor(WireProtocol protocol) => "battery-" + protocol.Name.ToLowerInvariant();

    /// <summary>Every (endpoint, upstream protocol) pair of the registry that has an exchange and serves the operation.</summary>
    public static IEnumerable<(ClientEndpoint Endpoint, WireProtocol Upstream)> Routes() => AllRoutes().Where(r => !Unserved(r.Endpoint, r.Upstream));

    /// <summary>The pairs with an exchange whose operation the upstream protocol cannot do (the endpoint row's <c>Unserved</c>).</summary>
    public static IEnumerable<(ClientEndpoint Endpoint, WireProtocol Upstream)> UnservedRoutes() => AllRoutes().Where(r => Unserved(r.Endpoint, r.Upstream));

    /// <summary>
    /// Whether the gateway may pass the body on without reading it: a passthrough whose model is in the URL. The
    /// upstream then judges the body, which must reach it exactly as sent.
    /// </summary>
    public static bool BodyMayGoUnread(ClientEndpoint endpoint, WireProtocol upstream) => !endpoint.ModelInBody && upstream == endpoint.Api.Protocol;

    private static IEnumerable<(ClientEndpoint Endpoint, WireProtocol Upstream)> AllRoutes() =>
        from api in ProtocolRegistry.Default.ClientApis
        from endpoint in api.Endpoints
        from upstream in ProtocolRegistry.Default.UpstreamProtocols
        where ProtocolRegistry.Default.FindExchange(api, [upstream]) is not null
        select (endpoint, upstream);

    private static bool Unserved(ClientEndpoint endpoint, WireProtocol upstream) =>
        ClientApiRows.All.SingleOrDefault(r => r.ApiName == endpoint.Api.Name)?.Endpoints.SingleOrDefault(e => e.EndpointId == endpoint.Id)?.Unserved?.Contains(upstream.Name) == true;

    /// <summary>The Redis the limiter uses; null keeps limits in memory and the client key unlimited.</summary>
    private string? _redis;

    public ValueTask InitializeAsync() => StartAsync(redis: null);

    /// <summary>A battery gateway whose client key has (generous) limits kept in <paramref name="redis"/>.</summary>
    public static async Task<BatteryGateway> StartWithRedisAsync(string redis)
    {
        var battery = new BatteryGateway();
        await battery.StartAsync(redis);
        return battery;
    }

    private async ValueTask StartAsync(string? redis)
    {
        _redis = redis;
        KeysSent.UnionWith([ClientKey, SecondClientKey, RestrictedKey]);
        _gateway = await GatewayFixture.StartAsync(Configure, redis, args: [$"--Kestrel:Limits:MaxRequestBodySize={BodyLimit}"]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
    }

    private void Configure(JsonObject config)
    {
        var models = new JsonArray();
        foreach (var protocol in ProtocolRegistry.Default.UpstreamProtocols)
        {
            var row = UpstreamProtocolRows.For(protocol);
            models.Add(new JsonObject { ["Name"] = ModelFor(protocol), ["Cluster"] = "sim", ["UpstreamModel"] = row.UpstreamModel, ["Protocols"] = new JsonArray(protocol.Name) });
        }

        // The same models on an upstream that is down (a closed port) and on one whose answers outlast the timeout.
        var clusters = config["ReverseProxy"]!["Clusters"]!.AsObject();
        var sim = clusters["sim"]!;
        clusters["down"] = new JsonObject { ["Destinations"] = new JsonObject { ["d1"] = new JsonObject { ["Address"] = $"http://127.0.0.1:{LocalMachine.FreePort()}" } }, ["Metadata"] = sim["Metadata"]!.DeepClone() };
        clusters["slow"] = new JsonObject { ["Destinations"] = sim["Destinations"]!.DeepClone(), ["Metadata"] = sim["Metadata"]!.DeepClone(), ["HttpRequest"] = new JsonObject { ["ActivityTimeout"] = "00:00:01" } };
        foreach (var protocol in ProtocolRegistry.Default.UpstreamProtocols)
        {
            var row = UpstreamProtocolRows.For(protocol);
            models.Add(new JsonObject { ["Name"] = ModelFor(protocol) + "-down", ["Cluster"] = "down", ["UpstreamModel"] = row.UpstreamModel, ["Protocols"] = new JsonArray(protocol.Name) });
            models.Add(new JsonObject { ["Name"] = ModelFor(protocol) + "-slow", ["Cluster"] = "slow", ["UpstreamModel"] = row.UpstreamModel, ["Protocols"] = new JsonArray(protocol.Name) });
        }

        config["Models"] = models;
        config["Keys"] = new JsonArray(
            new JsonObject { ["Name"] = "battery", ["Hash"] = ApiKeyHash.Compute(ClientKey), ["Models"] = new JsonArray("*") },
            new JsonObject { ["Name"] = "battery-second", ["Hash"] = ApiKeyHash.Compute(SecondClientKey), ["Models"] = new JsonArray("*") },
            new JsonObject { ["Name"] = "battery-restricted", ["Hash"] = ApiKeyHash.Compute(RestrictedKey), ["Models"] = new JsonArray("none-of-the-battery-models") });
        if (_redis is not null)
        {
            config["Keys"]![0]!["Limits"] = new JsonObject { ["RequestsPerMinute"] = 100_000, ["TokensPerMinute"] = 100_000_000 };
        }
    }

    /// <summary>
    /// Sends <paramref name="body"/> to <paramref name="path"/> with the client key as a bearer token (unless
    /// <paramref name="bearer"/> says otherwise: null sends none) and the headers given; a null content type sends none.
    /// </summary>
    public async Task<BatteryAnswer> SendAsync(string path, byte[]? body, string? contentType = "application/json", string? bearer = "", IEnumerable<(string Name, string Value)>? headers = null, bool chunked = false, bool expectContinue = false)
    {
        using var client = new HttpClient { BaseAddress = Gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (body is not null)
        {
            request.Content = chunked ? new StreamContent(new MemoryStream(body)) : new ByteArrayContent(body);
            if (chunked)
            {
                request.Headers.TransferEncodingChunked = true;
            }

            if (contentType is not null)
            {
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }
        }

        // A client that waits for 100-continue sends no body the server refuses on its headers alone (without it, a
        // refusal before the body is read ends the connection under the client's upload).
        request.Headers.ExpectContinue = expectContinue;
        bearer = bearer == string.Empty ? ClientKey : bearer;
        if (bearer is not null)
        {
            KeysSent.Add(bearer);
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }

        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        JsonNode? json = null;
        if (mediaType?.EndsWith("json", StringComparison.Ordinal) == true && text.Length > 0)
        {
            try
            {
                json = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
            }
        }

        return new BatteryAnswer((int)response.StatusCode, mediaType, text, json, response);
    }

    /// <summary>The good request of an endpoint for a model, as the row builds it.</summary>
    public Task<BatteryAnswer> SendGoodAsync(string endpointId, string model, string? bearer = "", IEnumerable<(string Name, string Value)>? headers = null)
    {
        var (_, _, row) = ClientApiRows.Endpoint(endpointId);
        return SendAsync(row.Path(Uri.EscapeDataString(model)), Encoding.UTF8.GetBytes(row.Body(model, "Say hello")), bearer: bearer, headers: headers);
    }

    /// <summary>Asserts <paramref name="answer"/> is an error with <paramref name="status"/>, JSON in the endpoint's protocol, naming <paramref name="param"/> when given.</summary>
    public static void AssertError(string endpointId, BatteryAnswer answer, int status, string? param = null) =>
        AssertError(endpointId, answer, [status], param);

    /// <summary>As <see cref="AssertError(string, BatteryAnswer, int, string?)"/>, for a refusal that may come with either of two statuses.</summary>
    public static void AssertError(string endpointId, BatteryAnswer answer, int[] statuses, string? param = null)
    {
        Assert.True(statuses.Contains(answer.Status), $"expected {string.Join(" or ", statuses)}, got {answer}");
        Assert.True(answer.MediaType == "application/json", $"an error body is JSON, got {answer}");
        Assert.True(answer.Json is not null, $"an error body is JSON, got {answer}");
        var (_, api, _) = ClientApiRows.Endpoint(endpointId);
        api.AssertError(answer.Json, answer.Status, param);
    }

    /// <summary>Asserts the gateway still serves the endpoint's good request: the case left nothing broken behind.</summary>
    public async Task AssertServesTheNextGoodRequestAsync(string endpointId, string model)
    {
        var answer = await SendGoodAsync(endpointId, model);
        Assert.True(answer.Status == 200, $"the next good request to {endpointId} on {model} was not served: {answer}");
        Assert.False(string.IsNullOrWhiteSpace(answer.Text));
    }

    public int UpstreamCalls => Gateway.Upstream.Received.Count;
}
