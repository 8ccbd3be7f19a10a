using System.Text;
using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;

namespace MixProxy.Tests.HostileInput;

/// <summary>
/// The hostile-input battery: every client endpoint of the registry, on every upstream protocol it can reach, gets
/// malformed, wrong-typed, badly encoded, oversized and badly credentialed requests. Each is refused with the right
/// status and an error body in the caller's own protocol, reaches no upstream, and leaves the gateway serving the next
/// good request. The cases are built from the endpoint's row in <see cref="ClientApiRows"/>, so an API added to the
/// registry is covered as soon as it has a row (and the battery fails until it has one).
/// </summary>
public sealed class HostileRequestTests(BatteryGateway battery) : IClassFixture<BatteryGateway>
{
    /// <summary>Bodies no endpoint may accept, by name: each built from the endpoint's good body.</summary>
    private static readonly Dictionary<string, Func<EndpointRow, string, byte[]>> MalformedBodies = new()
    {
        ["truncated JSON"] = (row, model) => Utf8(row.Body(model, "Hi")[..^3]),
        ["empty body"] = (_, _) => [],
        ["not JSON at all"] = (_, _) => Utf8("hello, gateway"),
        ["top level is an array"] = (row, model) => Utf8("[" + row.Body(model, "Hi") + "]"),
        ["top level is a string"] = (_, _) => Utf8("\"Hi\""),
        ["top level is a number"] = (_, _) => Utf8("5"),
        ["top level is null"] = (_, _) => Utf8("null"),
        ["a top-level key twice"] = (row, model) => DuplicateFirstKey(row.Body(model, "Hi")),
        ["invalid UTF-8 in the text"] = (row, model) => Replace(row.Body(model, "BADTEXT"), "BADTEXT", [(byte)'a', 0xFF, 0xFE, (byte)'b']),
        ["an escaped lone surrogate in the text"] = (row, model) => Utf8(row.Body(model, "BADTEXT").Replace("BADTEXT", "a\\ud800b", StringComparison.Ordinal)),
        ["10,000 levels of nesting"] = (row, model) => Utf8("{\"nested\":" + new string('[', 10_000) + new string(']', 10_000) + "," + row.Body(model, "Hi")[1..]),
    };

    /// <summary>Malformations refused even where a passthrough could leave the body unread (a parser the upstream may not survive).</summary>
    private static readonly HashSet<string> RefusedEvenUnread = ["10,000 levels of nesting"];

    /// <summary>
    /// Cases that fail today for a defect another change owns, left out until it lands (then delete the line):
    /// (endpoint, upstream, malformation).
    /// </summary>
    private static readonly HashSet<(string, string, string)> Pending = [];

    public static TheoryData<string, string, string> MalformedCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (endpoint, upstream) in BatteryGateway.Routes())
        {
            foreach (var name in MalformedBodies.Keys.Where(name => !Pending.Contains((endpoint.Id, upstream.Name, name))))
            {
                data.Add(endpoint.Id, upstream.Name, name);
            }
        }

        return data;
    }

    public static TheoryData<string, string> AllRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var (endpoint, upstream) in BatteryGateway.Routes())
        {
            data.Add(endpoint.Id, upstream.Name);
        }

        return data;
    }

    /// <summary>Each wrong-typed field of each endpoint's row, on each upstream that translates (a passthrough leaves types to the upstream).</summary>
    public static TheoryData<string, string, string> WrongTypedCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (endpoint, upstream) in BatteryGateway.Routes().Where(r => r.Upstream != r.Endpoint.Api.Protocol))
        {
            var row = ClientApiRows.All.SingleOrDefault(r => r.ApiName == endpoint.Api.Name)?.Endpoints.SingleOrDefault(e => e.EndpointId == endpoint.Id);
            var count = row?.WrongTypedFields.Count ?? 1; // no row: one case, which fails saying what to add
            for (var i = 0; i < count; i++)
            {
                data.Add(endpoint.Id, upstream.Name, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return data;
    }

    public static TheoryData<string> Endpoints()
    {
        var data = new TheoryData<string>();
        foreach (var id in ProtocolRegistry.Default.ClientApis.SelectMany(api => api.Endpoints).Select(e => e.Id))
        {
            data.Add(id);
        }

        return data;
    }

    [Fact]
    public void EveryRegisteredClientApi_HasARowInTheBattery()
    {
        foreach (var api in ProtocolRegistry.Default.ClientApis)
        {
            ClientApiRows.For(api);
        }

        foreach (var protocol in ProtocolRegistry.Default.UpstreamProtocols)
        {
            UpstreamProtocolRows.For(protocol);
        }

        var registered = ProtocolRegistry.Default.ClientApis.Select(api => api.Name).ToHashSet();
        Assert.All(ClientApiRows.All, row => Assert.True(registered.Contains(row.ApiName), $"ClientApiRows has a row for '{row.ApiName}', which the registry does not list: remove or rename it."));
    }

    [Theory]
    [MemberData(nameof(AllRoutes))]
    public async Task GoodRequest_IsServed(string endpointId, string upstream)
    {
        var answer = await battery.SendGoodAsync(endpointId, Model(upstream));

        Assert.True(answer.Status == 200, answer.ToString());
    }

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public async Task MalformedBody_Is400InTheClientsProtocol_ReachesNoUpstream_AndTheNextRequestIsServed(string endpointId, string upstream, string malformation)
    {
        var (endpoint, _, row) = ClientApiRows.Endpoint(endpointId);
        var model = Model(upstream);
        var before = battery.UpstreamCalls;

        var body = MalformedBodies[malformation](row, model);

        var answer = await battery.SendAsync(row.Path(model), body);

        if (BatteryGateway.BodyMayGoUnread(endpoint, ProtocolRegistry.Default.FindProtocol(upstream)!) && !RefusedEvenUnread.Contains(malformation) && battery.UpstreamCalls > before)
        {
            // Passed on unread: the upstream judges the body, which reached it as sent, and its answer is in the client's protocol.
            Assert.Equal(before + 1, battery.UpstreamCalls);
            Assert.Equal(Encoding.UTF8.GetString(body), battery.Gateway.Upstream.Received.Last().Body);
            if (answer.Status >= 400)
            {
                BatteryGateway.AssertError(endpointId, answer, answer.Status);
            }
        }
        else
        {
            BatteryGateway.AssertError(endpointId, answer, 400);
            Assert.Equal(before, battery.UpstreamCalls);
        }

        await battery.AssertServesTheNextGoodRequestAsync(endpointId, model);
    }

    [Theory]
    [MemberData(nameof(WrongTypedCases))]
    public async Task WrongTypedField_OnATranslatedRoute_Is400NamingTheField_AndReachesNoUpstream(string endpointId, string upstream, string index)
    {
        var (_, _, row) = ClientApiRows.Endpoint(endpointId);
        var model = Model(upstream);
        var field = row.WrongTypedFields[int.Parse(index, System.Globalization.CultureInfo.InvariantCulture)];
        var before = battery.UpstreamCalls;

        var answer = await battery.SendAsync(row.Path(model), Utf8(field.Body(model)));

        BatteryGateway.AssertError(endpointId, answer, 400, field.Param);
        Assert.Equal(before, battery.UpstreamCalls);
        await battery.AssertServesTheNextGoodRequestAsync(endpointId, model);
    }

    [Theory]
    [MemberData(nameof(AllRoutes))]
    public async Task InvalidUtf8InTheModel_IsRefusedInTheClientsProtocol_AndReachesNoUpstream(string endpointId, string upstream)
    {
        var (endpoint, _, row) = ClientApiRows.Endpoint(endpointId);
        var before = battery.UpstreamCalls;

        var answer = endpoint.ModelInBody
            ? await battery.SendAsync(row.Path("m"), Replace(row.Body("BADMODEL", "Hi"), "BADMODEL", [(byte)'m', 0xFF, (byte)'x']))
            : await battery.SendAsync(row.Path("m%FFx"), Utf8(row.Body("m", "Hi")));

        BatteryGateway.AssertError(endpointId, answer, [400, 404]);
        Assert.Equal(before, battery.UpstreamCalls);
        await battery.AssertServesTheNextGoodRequestAsync(endpointId, Model(upstream));
    }

    [Theory]
    [MemberData(nameof(AllRoutes))]
    public async Task BodyOverTheLimit_Is413InTheClientsProtocol_SayingSo_BeforeAnyUpstreamCall(string endpointId, string upstream)
    {
        var (_, _, row) = ClientApiRows.Endpoint(endpointId);
        var model = Model(upstream);
        var before = battery.UpstreamCalls;

        var answer = await battery.SendAsync(row.Path(model), Utf8(row.Body(model, new string('x', BatteryGateway.BodyLimit + 1))), expectContinue: true);

        BatteryGateway.AssertError(endpointId, answer, 413);
        Assert.Contains("larger than", answer.Text, StringComparison.Ordinal);
        Assert.Equal(before, battery.UpstreamCalls);
        await battery.AssertServesTheNextGoodRequestAsync(endpointId, model);
    }

    [Theory]
    [MemberData(nameof(AllRoutes))]
    public async Task BodyOverTheLimit_SentWithoutALength_Is413InTheClientsProtocol_SayingSo(string endpointId, string upstream)
    {
        var (_, _, row) = ClientApiRows.Endpoint(endpointId);
        var model = Model(upstream);

        var answer = await battery.SendAsync(row.Path(model), Utf8(row.Body(model, new string('x', BatteryGateway.BodyLimit + 1))), chunked: true, expectContinue: true);

        BatteryGateway.AssertError(endpointId, answer, 413);
        Assert.Contains("large", answer.Text, StringComparison.OrdinalIgnoreCase);
        await battery.AssertServesTheNextGoodRequestAsync(endpointId, model);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task UnknownModel_Is404InTheClientsProtocol_AndReachesNoUpstream(string endpointId)
    {
        var before = battery.UpstreamCalls;

        var answer = await battery.SendGoodAsync(endpointId, "no-such-model-anywhere");

        BatteryGateway.AssertError(endpointId, answer, 404);
        Assert.Equal(before, battery.UpstreamCalls);
    }

    [Theory]
    [MemberData(nameof(AllRoutes))]
    public async Task ModelTheKeyMayNotUse_Is403InTheClientsProtocol_AndReachesNoUpstream(string endpointId, string upstream)
    {
        var before = battery.UpstreamCalls;

        var answer = await battery.SendGoodAsync(endpointId, Model(upstream), bearer: battery.RestrictedKey);

        BatteryGateway.AssertError(endpointId, answer, 403);
        Assert.Equal(before, battery.UpstreamCalls);
    }

    [Theory]
    [MemberData(nameof(AllRoutes))]
    public async Task ContentTypeOtherThanJson_IsServedAsJson_OrRefusedInTheClientsProtocol(string endpointId, string upstream)
    {
        var (_, _, row) = ClientApiRows.Endpoint(endpointId);
        var model = Model(upstream);

        foreach (var contentType in new[] { "text/plain", null })
        {
            var answer = await battery.SendAsync(row.Path(model), Utf8(row.Body(model, "Hi")), contentType);
            Assert.True(answer.Status == 200, $"{contentType ?? "no content type"}: {answer}");
        }
    }

    public static TheoryData<string, string> UnservedRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var (endpoint, upstream) in BatteryGateway.UnservedRoutes())
        {
            data.Add(endpoint.Id, upstream.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(UnservedRoutes))]
    public async Task OperationTheUpstreamProtocolCannotDo_Is501InTheClientsProtocol_AndReachesNoUpstream(string endpointId, string upstream)
    {
        var before = battery.UpstreamCalls;

        var answer = await battery.SendGoodAsync(endpointId, Model(upstream));

        BatteryGateway.AssertError(endpointId, answer, 501);
        Assert.Equal(before, battery.UpstreamCalls);
    }

    private static string Model(string upstream) => BatteryGateway.ModelFor(ProtocolRegistry.Default.FindProtocol(upstream)!);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Replace(string json, string marker, byte[] with)
    {
        var at = json.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"the row's body does not carry {marker}: {json}");
        return [.. Utf8(json[..at]), .. with, .. Utf8(json[(at + marker.Length)..])];
    }

    /// <summary>The body with its first property written once more in front: <c>{"model":"m","model":"m",…}</c>.</summary>
    private static byte[] DuplicateFirstKey(string json)
    {
        var (name, value) = JsonNode.Parse(json)!.AsObject().First();
        return Utf8("{" + JsonValue.Create(name).ToJsonString() + ":" + (value?.ToJsonString() ?? "null") + "," + json[1..]);
    }
}
