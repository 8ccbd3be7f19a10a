using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;
using MixProxy.Translation.Protocols;

namespace MixProxy.Tests.HostileInput;

/// <summary>
/// A misbehaving upstream behind every client endpoint, for every upstream protocol it can reach: down, silent past
/// the timeout, answering an HTML error page, resetting the connection, sending a cut or malformed stream, or echoing
/// the gateway's key. The client gets an answer in its own protocol every time, never the upstream's key, and the
/// gateway serves the next request. Last, a leak scan: no client key nor upstream key in the logs, the metrics, or
/// (client keys) anything an upstream received.
/// </summary>
public sealed class UpstreamFaultTests(BatteryGateway battery) : IClassFixture<BatteryGateway>
{
    /// <summary>Cases that fail today for a defect another change owns (then delete the line): (fault, endpoint, upstream).</summary>
    private static readonly HashSet<(string, string, string)> Pending = [];

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (endpoint, upstream) in BatteryGateway.Routes())
        {
            var streams = ClientApiRows.All.SingleOrDefault(r => r.ApiName == endpoint.Api.Name)?.Endpoints.SingleOrDefault(e => e.EndpointId == endpoint.Id)?.Streaming is not null;
            foreach (var fault in new[] { "down", "silent past the timeout", "an HTML error page", "a reset before the answer", "its error echoing the gateway's key" }.Concat(streams ? ["a cut stream", "a malformed stream event"] : []))
            {
                if (!Pending.Contains((fault, endpoint.Id, upstream.Name)))
                {
                    data.Add(fault, endpoint.Id, upstream.Name);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MisbehavingUpstream_ClientGetsAnAnswerInItsOwnProtocol_AndTheNextRequestIsServed(string fault, string endpointId, string upstreamName)
    {
        var upstream = ProtocolRegistry.Default.FindProtocol(upstreamName)!;
        var row = UpstreamProtocolRows.For(upstream);
        var model = BatteryGateway.ModelFor(upstream);
        battery.Gateway.Upstream.Clear();

        switch (fault)
        {
            case "down":
                BatteryGateway.AssertError(endpointId, await battery.SendGoodAsync(endpointId, model + "-down"), [502, 503]);
                break;
            case "silent past the timeout":
                BatteryGateway.AssertError(endpointId, await battery.SendGoodAsync(endpointId, model + "-slow", headers: [("x-simulator-latency-ms", "3000")]), [503, 504]);
                break;
            case "an HTML error page":
                battery.Gateway.Upstream.Enqueue(new ScriptedReply(Status: 502, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>") { Headers = new Dictionary<string, string> { ["Content-Type"] = "text/html" } });
                BatteryGateway.AssertError(endpointId, await battery.SendGoodAsync(endpointId, model), 502);
                break;
            case "a reset before the answer":
                battery.Gateway.Upstream.Enqueue(new ScriptedReply(Events: []) { AbortAfterEvents = 0 });
                AssertAnErrorInItsProtocol(endpointId, await battery.SendGoodAsync(endpointId, model));
                break;
            case "a cut stream":
                battery.Gateway.Upstream.Enqueue(new ScriptedReply(Events: row.TextEvents(["one ", "two "])));
                AssertAnErrorInItsProtocol(endpointId, await SendStreamingAsync(endpointId, model));
                break;
            case "a malformed stream event":
                battery.Gateway.Upstream.Enqueue(new ScriptedReply(Events: [.. row.TextEvents(["one "]), row.CutEvent, .. row.Ending]));
                var streamed = await SendStreamingAsync(endpointId, model);
                if (upstream == ProtocolRegistry.Default.FindEndpoint(endpointId)!.Api.Protocol)
                {
                    // Passed through, the stream is the upstream's, event for event: the client's own parser meets the bad event.
                    Assert.Contains(row.CutEvent, streamed.Text, StringComparison.Ordinal);
                }
                else
                {
                    AssertAnErrorInItsProtocol(endpointId, streamed);
                }

                break;
            default:
                battery.Gateway.Upstream.Enqueue(new ScriptedReply(Status: 400, Body: row.ErrorBody($"Incorrect API key provided: Bearer {GatewayFixture.UpstreamSecret}"))
                {
                    Headers = new Dictionary<string, string> { ["Set-Cookie"] = "session=" + GatewayFixture.UpstreamSecret, ["x-echo-authorization"] = "Bearer " + GatewayFixture.UpstreamSecret },
                });
                var answer = await battery.SendGoodAsync(endpointId, model);
                BatteryGateway.AssertError(endpointId, answer, 400);
                Assert.DoesNotContain(GatewayFixture.UpstreamSecret, answer.Text, StringComparison.Ordinal);
                Assert.DoesNotContain(answer.Response.Headers.Concat(answer.Response.Content.Headers), h => h.Value.Any(v => v.Contains(GatewayFixture.UpstreamSecret, StringComparison.Ordinal)));
                break;
        }

        await battery.AssertServesTheNextGoodRequestAsync(endpointId, model);
    }

    [Fact]
    public async Task NoKey_InTheLogsTheMetricsOrWhatUpstreamsReceived()
    {
        // Traffic that carries every kind of key: good requests with the key in each place, unknown keys, an upstream echoing its key.
        foreach (var (endpoint, upstream) in BatteryGateway.Routes())
        {
            var model = BatteryGateway.ModelFor(upstream);
            Assert.Equal(200, (await battery.SendGoodAsync(endpoint.Id, model)).Status);
            Assert.Equal(401, (await battery.SendGoodAsync(endpoint.Id, model, bearer: "battery-unknown-" + Guid.NewGuid().ToString("N"))).Status);
            battery.Gateway.Upstream.Enqueue(new ScriptedReply(Status: 400, Body: UpstreamProtocolRows.For(upstream).ErrorBody("key " + GatewayFixture.UpstreamSecret)));
            await battery.SendGoodAsync(endpoint.Id, model);
        }

        using var client = battery.Gateway.CreateClient(key: null);
        var metrics = await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        var secrets = battery.KeysSent.Append(GatewayFixture.UpstreamSecret).ToList();

        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(battery.Gateway.Logs.Lines, line => line.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, metrics, StringComparison.Ordinal);
        }

        foreach (var received in battery.Gateway.Upstream.Received)
        {
            var seen = received.Path + "?" + received.Query + "\n" + string.Join("\n", received.Headers.Select(h => h.Key + ": " + h.Value)) + "\n" + received.Body;
            Assert.All(battery.KeysSent, key => Assert.DoesNotContain(key, seen, StringComparison.Ordinal));

            // The upstream key travels in its credential header only.
            Assert.Equal(1, Regex.Count(seen, Regex.Escape(GatewayFixture.UpstreamSecret)));
        }
    }

    /// <summary>The JSON of a stream's last event (SSE, or a JSON array's last item); null when it is not JSON.</summary>
    private static JsonNode? LastEvent(string text)
    {
        try
        {
            if (text.TrimStart().StartsWith('['))
            {
                return JsonNode.Parse(text)?.AsArray().LastOrDefault();
            }

            var data = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
                .Select(e => string.Concat(e.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].TrimStart())))
                .LastOrDefault(d => d.Length > 0);
            return data is null or "[DONE]" ? null : JsonNode.Parse(data);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private Task<BatteryAnswer> SendStreamingAsync(string endpointId, string model)
    {
        var (path, body) = ClientApiRows.Endpoint(endpointId).Row.Streaming!(model);
        return battery.SendAsync(path, Encoding.UTF8.GetBytes(body));
    }

    /// <summary>
    /// An error status with an error body in the endpoint's protocol, or (the answer already begun) a 200 whose body
    /// ends with an error: never a success made of a broken answer.
    /// </summary>
    private static void AssertAnErrorInItsProtocol(string endpointId, BatteryAnswer answer)
    {
        if (answer.Status == 200)
        {
            // The last event says the answer failed: an error object (Chat Completions, Gemini), or an event of type
            // error or response.failed (Responses API).
            var last = LastEvent(answer.Text);
            var failed = last?["error"] is JsonObject || last?["type"]?.GetValue<string>() is "error" or "response.failed";
            Assert.True(failed, $"a 200 whose last event is no error: …{answer.Text[^Math.Min(answer.Text.Length, 500)..]}");
        }
        else
        {
            BatteryGateway.AssertError(endpointId, answer, [502, 503, 504]);
        }
    }
}
