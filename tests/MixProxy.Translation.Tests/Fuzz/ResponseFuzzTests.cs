using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.Tests.Fuzz;

/// <summary>
/// Upstream answers, fuzzed through every exchange of the registry. A whole answer is translated (its text intact when
/// it is valid) or refused with an <see cref="UpstreamResponseException"/> (a 502); a stream is translated to its end
/// however the network cuts it into pieces (the same text whatever the pieces), and a stream cut short or garbled is
/// still read to its end with no exception and no translator fault; anything else is a translator bug.
/// </summary>
public sealed class ResponseFuzzTests
{
    private static readonly Gen<string[]> Texts = JsonGen.Text.Array[1, 5];

    [Fact]
    public void ValidWholeAnswer_KeepsItsText_OnEveryRoute()
    {
        var routes = Routes(stream: false);
        FuzzRun.Check(Gen.Select(Gen.Int[0, routes.Count - 1], Texts), c =>
        {
            var (endpoint, upstream, call) = Begin(routes[c.Item1], stream: false);
            var answer = Translate(call, FuzzRows.Upstream(upstream).Whole(c.Item2).ToJsonString());
            Assert.Equal(string.Concat(c.Item2), FuzzRows.Client(endpoint.Api).TextOfWhole(answer));
        }, cases: 1500, print: c => $"{Describe(routes[c.Item1])}: {string.Join(" | ", c.Item2)}");
    }

    [Fact]
    public void HostileWholeAnswer_IsTranslatedOrA502_OnEveryRoute()
    {
        var routes = Routes(stream: false);
        var gen = Gen.Int[0, routes.Count - 1].SelectMany(i =>
        {
            var row = FuzzRows.Upstream(routes[i].Upstream);
            return Gen.Frequency(
                (8, JsonGen.Mutated(Texts.Select(row.Whole), row.Vocabulary)),
                (1, Gen.Select(Texts, Gen.Double[0, 1], (texts, at) => { var json = row.Whole(texts).ToJsonString(); return json[..(int)(json.Length * at)]; })),
                (1, JsonGen.Text))
                .Select(body => (Route: i, Body: body));
        });

        FuzzRun.Check(gen, c =>
        {
            var (_, _, call) = Begin(routes[c.Route], stream: false);
            try
            {
                Translate(call, c.Body);
            }
            catch (UpstreamResponseException)
            {
            }
        }, cases: 4000, print: c => $"{Describe(routes[c.Route])}: {c.Body}");
    }

    [Fact]
    public void StreamCutIntoAnyPieces_TranslatesToTheSameText_OnEveryRoute()
    {
        var routes = Routes(stream: true);
        FuzzRun.Check(Gen.Select(Gen.Int[0, routes.Count - 1], Texts, Gen.Int[1, 40].Array[1, 8]), c =>
        {
            var sse = Encoding.UTF8.GetBytes(FuzzRows.Upstream(routes[c.Item1].Upstream).Stream(c.Item2));
            var whole = Stream(routes[c.Item1], sse, [sse.Length]);
            var pieces = Stream(routes[c.Item1], sse, c.Item3);
            var client = FuzzRows.Client(routes[c.Item1].Endpoint.Api);

            Assert.Equal(string.Concat(c.Item2), client.TextOfStream(whole));
            Assert.Equal(client.TextOfStream(whole), client.TextOfStream(pieces));
        }, cases: 1500, print: c => $"{Describe(routes[c.Item1])}: {string.Join(" | ", c.Item2)} in pieces of {string.Join(",", c.Item3)}");
    }

    [Fact]
    public void StreamCutShortOrGarbled_IsReadToItsEnd_WithoutAnExceptionOrATranslatorFault()
    {
        var routes = Routes(stream: true);
        var garble = Gen.Select(Gen.Double[0, 1], Gen.Byte.Array[0, 6], Gen.Bool);
        FuzzRun.Check(Gen.Select(Gen.Int[0, routes.Count - 1], Texts, garble.Array[1, 3], Gen.Int[1, 40].Array[1, 4]), c =>
        {
            var sse = Encoding.UTF8.GetBytes(FuzzRows.Upstream(routes[c.Item1].Upstream).Stream(c.Item2)).ToList();
            foreach (var (at, bytes, cut) in c.Item3)
            {
                var index = (int)(sse.Count * at);
                if (cut)
                {
                    sse.RemoveRange(index, sse.Count - index);
                }

                sse.InsertRange(Math.Min(index, sse.Count), bytes);
            }

            Stream(routes[c.Item1], [.. sse], c.Item4);
        }, cases: 2500, print: c => $"{Describe(routes[c.Item1])}: {string.Join(" | ", c.Item2)}, garbled {string.Join("; ", c.Item3.Select(g => $"{(g.Item3 ? "cut" : "insert")} at {g.Item1:F3} [{Convert.ToHexString(g.Item2)}]"))}");
    }

    /// <summary>
    /// The client's stream for the upstream bytes delivered in pieces; fails on a translator fault. A stream cut before
    /// the client got a byte ends in <see cref="TruncatedStreamException"/>, recorded as the upstream's fault (the
    /// host answers 502 or tries another upstream): that is an answer too, and the text is then empty.
    /// </summary>
    private static string Stream((ClientEndpoint Endpoint, WireProtocol Upstream, Exchange Exchange) route, byte[] sse, IReadOnlyList<int> pieces)
    {
        var (_, _, call) = Begin(route, stream: true);
        var reply = call.TranslateStream(new SplitStream(sse, pieces), "text/event-stream", TestContext.Current.CancellationToken);
        using var body = reply.Body;
        using var reader = new StreamReader(body, Encoding.UTF8);
        string text;
        try
        {
            text = reader.ReadToEnd();
        }
        catch (TruncatedStreamException) when (call.Outcome.Faulted)
        {
            text = string.Empty;
        }

        Assert.True(call.Outcome.TranslationFault is null, $"translator fault: {call.Outcome.TranslationFault}");
        return text;
    }

    private static string Translate(ExchangeCall call, string upstreamBody)
    {
        var output = new ArrayBufferWriter<byte>();
        var bytes = Encoding.UTF8.GetBytes(upstreamBody);
        return call.TranslateResponse(bytes, "application/json", output) is null ? upstreamBody : Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>The exchange call of a minimal request of the route's client, streamed or not.</summary>
    private static (ClientEndpoint Endpoint, WireProtocol Upstream, ExchangeCall Call) Begin((ClientEndpoint Endpoint, WireProtocol Upstream, Exchange Exchange) route, bool stream)
    {
        var row = FuzzRows.Client(route.Endpoint.Api);
        var body = row.Write(new Conversation(null, [new Turn("Hi", new Answer("Hello", []))]), stream).ToJsonString();
        var request = route.Endpoint.Api.Parse(route.Endpoint, row.Head(route.Endpoint), Encoding.UTF8.GetBytes(body));
        return (route.Endpoint, route.Upstream, route.Exchange.Begin(request, FuzzRows.Settings(route.Upstream)));
    }

    /// <summary>The routes whose endpoint generates and whose minimal request streams (or not) as asked.</summary>
    private static List<(ClientEndpoint Endpoint, WireProtocol Upstream, Exchange Exchange)> Routes(bool stream) =>
        [.. FuzzRows.Routes().Where(r => r.Endpoint.Generates && Streams(r) == stream)];

    private static bool Streams((ClientEndpoint Endpoint, WireProtocol Upstream, Exchange Exchange) route)
    {
        var row = FuzzRows.Client(route.Endpoint.Api);
        var body = row.Write(new Conversation(null, [new Turn("Hi", new Answer("Hello", []))]), true).ToJsonString();
        return route.Endpoint.Api.Parse(route.Endpoint, row.Head(route.Endpoint), Encoding.UTF8.GetBytes(body)).Stream;
    }

    private static string Describe((ClientEndpoint Endpoint, WireProtocol Upstream, Exchange Exchange) route) => $"{route.Endpoint.Id} ← {route.Upstream}";
}
