using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.Fuzz;

/// <summary>
/// Requests, fuzzed through every client API's parse and every exchange's <c>Begin</c>: whatever a client sends is
/// translated into a JSON upstream body or refused with a <see cref="TranslationException"/> whose status is a 4xx;
/// any other exception is a translator bug. Valid conversations keep their texts, tool names and arguments through a
/// translation, and through a translation and back.
/// </summary>
public sealed class RequestFuzzTests
{
    [Fact]
    public void EveryRegisteredProtocol_HasARowInTheFuzzer()
    {
        foreach (var api in ProtocolRegistry.Default.ClientApis)
        {
            FuzzRows.Client(api);
        }

        foreach (var protocol in ProtocolRegistry.Default.UpstreamProtocols)
        {
            FuzzRows.Upstream(protocol);
        }
    }

    [Fact]
    public void HostileRequest_IsTranslatedOrRefusedWithA4xx_OnEveryRoute()
    {
        var routes = FuzzRows.Routes().Where(r => Served(r.Endpoint, r.Upstream, r.Exchange)).ToList();
        var gen = Gen.Int[0, routes.Count - 1].SelectMany(i =>
        {
            var row = FuzzRows.Client(routes[i].Endpoint.Api);
            var valid = row.ValidFor(routes[i].Endpoint);
            return Gen.Frequency(
                (8, JsonGen.Mutated(valid, row.Vocabulary).Select(Encoding.UTF8.GetBytes)),
                (1, Gen.Select(valid, Gen.Double[0, 1], (body, at) => Truncate(Encoding.UTF8.GetBytes(body.ToJsonString()), at))),
                (1, Gen.Byte.Array[0, 64]))
                .Select(body => (Route: i, Body: body));
        });

        FuzzRun.Check(gen, c => TranslateOrRefuse(routes[c.Route].Endpoint, routes[c.Route].Upstream, routes[c.Route].Exchange, c.Body), cases: 4000,
            print: c => $"{routes[c.Route].Endpoint.Id} → {routes[c.Route].Upstream}: {Encoding.UTF8.GetString(c.Body)}");
    }

    [Fact]
    public void ValidConversation_KeepsItsTextsToolNamesAndArguments_InEveryTranslatedRequest()
    {
        var routes = FuzzRows.Routes().Where(r => r.Endpoint.Generates && r.Upstream != r.Endpoint.Api.Protocol).ToList();
        var gen = Gen.Select(Gen.Int[0, routes.Count - 1], Conversation.Any);

        FuzzRun.Check(gen, c =>
        {
            var (endpoint, upstream, exchange) = routes[c.Item1];
            var client = FuzzRows.Client(endpoint.Api);
            var clientBody = client.Write(c.Item2, false);

            // The request's facts are the conversation's, and a closing user message where the protocol needs one
            // (Anthropic continues a final assistant message instead of answering it).
            var written = client.ReadFacts(clientBody);
            Assert.Equal(c.Item2.Facts(), written.Take(c.Item2.Facts().Count));
            var upstreamBody = Translate(endpoint, exchange, clientBody, upstream);
            Assert.Equal(written, FuzzRows.Upstream(upstream).ReadFacts(upstreamBody));
        }, cases: 1500, print: c => $"{routes[c.Item1].Endpoint.Id} → {routes[c.Item1].Upstream}: {c.Item2}");
    }

    /// <summary>A → B → A for every pair whose way back exists: Chat → Gemini → Chat, Gemini → Chat → Gemini.</summary>
    [Fact]
    public void ValidConversation_TranslatedThereAndBack_KeepsItsTextsToolNamesAndArguments()
    {
        var trips = (
            from there in FuzzRows.Routes()
            where there.Endpoint.Generates && there.Upstream != there.Endpoint.Api.Protocol && !FuzzRows.Client(there.Endpoint.Api).ApiName.Contains("Responses", StringComparison.Ordinal)
            from back in FuzzRows.Routes()
            where back.Endpoint.Api.Protocol == there.Upstream && back.Upstream == there.Endpoint.Api.Protocol && back.Endpoint.Generates && back.Endpoint.Id == back.Endpoint.Api.Endpoints[0].Id
            select (There: there, Back: back)).ToList();
        Assert.NotEmpty(trips);
        var gen = Gen.Select(Gen.Int[0, trips.Count - 1], Conversation.Any);

        FuzzRun.Check(gen, c =>
        {
            var (there, back) = trips[c.Item1];
            var upstreamBody = Translate(there.Endpoint, there.Exchange, FuzzRows.Client(there.Endpoint.Api).Write(c.Item2, false), there.Upstream);
            var returned = Translate(back.Endpoint, back.Exchange, upstreamBody.AsObject(), back.Upstream);
            Assert.Equal(c.Item2.Facts(), FuzzRows.Client(there.Endpoint.Api).ReadFacts(returned));
        }, cases: 1500, print: c => $"{trips[c.Item1].There.Endpoint.Id} → {trips[c.Item1].There.Upstream} → back: {c.Item2}");
    }

    /// <summary>Parses <paramref name="body"/> on the endpoint and begins the exchange: the upstream body (the client's own when passed through).</summary>
    private static JsonNode Translate(ClientEndpoint endpoint, Exchange exchange, JsonObject body, WireProtocol upstream)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        var request = endpoint.Api.Parse(endpoint, FuzzRows.Client(endpoint.Api).Head(endpoint), bytes);
        var call = exchange.Begin(request, FuzzRows.Settings(upstream));
        return JsonNode.Parse((call.Request.Body ?? request.Body).Span)!;
    }

    private static void TranslateOrRefuse(ClientEndpoint endpoint, WireProtocol upstream, Exchange exchange, byte[] body)
    {
        try
        {
            var request = endpoint.Api.Parse(endpoint, FuzzRows.Client(endpoint.Api).Head(endpoint), body);
            var call = exchange.Begin(request, FuzzRows.Settings(upstream));
            if (call.Request.Body is { } translated)
            {
                using var _ = JsonDocument.Parse(translated);
            }
        }
        catch (TranslationException e)
        {
            Assert.True(e.StatusCode is >= 400 and < 500, $"a refusal is a 4xx, not {e.StatusCode}: {e.Message}");
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }
    }

    /// <summary>Whether the route serves its operation at all (counting tokens on a Chat upstream is a 501 whatever the body).</summary>
    private static bool Served(ClientEndpoint endpoint, WireProtocol upstream, Exchange exchange)
    {
        try
        {
            Translate(endpoint, exchange, FuzzRows.Client(endpoint.Api).WriteFor(endpoint, new Conversation(null, [new Turn("Hi", new Answer("Hello", []))]), false), upstream);
            return true;
        }
        catch (TranslationException e) when (e.StatusCode == 501)
        {
            return false;
        }
    }

    private static byte[] Truncate(byte[] body, double at) => body[..(int)(body.Length * at)];
}
