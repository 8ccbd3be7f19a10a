using System.Text;
using MixProxy.Translation.Protocols;

namespace MixProxy.Tests.HostileInput;

/// <summary>
/// Credentials on every client endpoint, in every place the registry's client APIs take a key: the endpoint's own
/// places accept the key; no key or an unknown key is a 401, and two different keys in one request (RFC 6750 §2: one
/// request, one credential) are refused; each refusal in the caller's protocol, reaching no upstream.
/// </summary>
public sealed class CredentialBatteryTests(BatteryGateway battery) : IClassFixture<BatteryGateway>
{
    public static TheoryData<string, int> EndpointsAndTheirPlaces()
    {
        var data = new TheoryData<string, int>();
        foreach (var endpoint in ProtocolRegistry.Default.ClientApis.SelectMany(api => api.Endpoints))
        {
            for (var i = 0; i < endpoint.Api.CredentialSources.Count; i++)
            {
                data.Add(endpoint.Id, i);
            }
        }

        return data;
    }

    /// <summary>Each endpoint with each place any client API takes a key (the second key of a conflicting pair goes there).</summary>
    public static TheoryData<string, int> EndpointsAndEveryPlace()
    {
        var data = new TheoryData<string, int>();
        foreach (var endpoint in ProtocolRegistry.Default.ClientApis.SelectMany(api => api.Endpoints))
        {
            for (var i = 0; i < ProtocolRegistry.Default.ClientCredentialSources.Count; i++)
            {
                data.Add(endpoint.Id, i);
            }
        }

        return data;
    }

    public static TheoryData<string> Endpoints() => HostileRequestTests.Endpoints();

    [Theory]
    [MemberData(nameof(EndpointsAndTheirPlaces))]
    public async Task KeyInAPlaceTheEndpointsClientsUse_IsAccepted(string endpointId, int place)
    {
        var (endpoint, _, _) = ClientApiRows.Endpoint(endpointId);

        var answer = await SendAsync(endpointId, (endpoint.Api.CredentialSources[place], battery.ClientKey));

        Assert.True(answer.Status == 200, $"a key in {endpoint.Api.CredentialSources[place].Describe()}: {answer}");
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task NoKey_Is401InTheClientsProtocol_AndReachesNoUpstream(string endpointId)
    {
        var before = battery.UpstreamCalls;

        var answer = await SendAsync(endpointId);

        BatteryGateway.AssertError(endpointId, answer, 401);
        Assert.Equal(before, battery.UpstreamCalls);
    }

    [Theory]
    [MemberData(nameof(EndpointsAndTheirPlaces))]
    public async Task UnknownKey_Is401InTheClientsProtocol_AndReachesNoUpstream(string endpointId, int place)
    {
        var (endpoint, _, _) = ClientApiRows.Endpoint(endpointId);
        var before = battery.UpstreamCalls;

        var answer = await SendAsync(endpointId, (endpoint.Api.CredentialSources[place], "battery-unknown-" + Guid.NewGuid().ToString("N")));

        BatteryGateway.AssertError(endpointId, answer, 401);
        Assert.Equal(before, battery.UpstreamCalls);
        await battery.AssertServesTheNextGoodRequestAsync(endpointId, Model(endpoint));
    }

    [Theory]
    [MemberData(nameof(EndpointsAndEveryPlace))]
    public async Task AValidKeyAndAnotherKeyElsewhere_AreRefusedInTheClientsProtocol_AndReachNoUpstream(string endpointId, int place)
    {
        var (endpoint, _, _) = ClientApiRows.Endpoint(endpointId);
        var first = endpoint.Api.CredentialSources[0];
        var second = ProtocolRegistry.Default.ClientCredentialSources[place];
        var before = battery.UpstreamCalls;

        foreach (var other in new[] { battery.SecondClientKey, "battery-unknown-" + Guid.NewGuid().ToString("N") })
        {
            // In the same place, the second key is a second value of that header or parameter.
            var answer = await SendAsync(endpointId, (first, battery.ClientKey), (second, other));

            BatteryGateway.AssertError(endpointId, answer, [400, 401]);
            Assert.Equal(before, battery.UpstreamCalls);
        }

        await battery.AssertServesTheNextGoodRequestAsync(endpointId, Model(endpoint));
    }

    [Theory]
    [MemberData(nameof(EndpointsAndEveryPlace))]
    public async Task TheSameKeyInTwoPlaces_IsOneCredential_AndAccepted(string endpointId, int place)
    {
        var (endpoint, _, _) = ClientApiRows.Endpoint(endpointId);
        var first = endpoint.Api.CredentialSources[0];
        var second = ProtocolRegistry.Default.ClientCredentialSources[place];
        if (second == first)
        {
            return; // the same place twice is a repeated header or parameter: AValidKeyAndAnotherKeyElsewhere covers it with another key
        }

        var answer = await SendAsync(endpointId, (first, battery.ClientKey), (second, battery.ClientKey));

        Assert.True(answer.Status == 200, answer.ToString());
    }

    /// <summary>The endpoint's good request to its first served model, with keys placed as given (no other credential).</summary>
    private Task<BatteryAnswer> SendAsync(string endpointId, params (CredentialSource Place, string Key)[] keys)
    {
        var (endpoint, _, row) = ClientApiRows.Endpoint(endpointId);
        var model = Model(endpoint);
        var path = row.Path(model);
        var headers = new List<(string, string)>();
        foreach (var (place, key) in keys)
        {
            battery.KeysSent.Add(key);
            if (place.Location == CredentialLocation.Query)
            {
                path += (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + place.Name + "=" + Uri.EscapeDataString(key);
            }
            else
            {
                headers.Add((place.Name, place.Format(key)));
            }
        }

        return battery.SendAsync(path, Encoding.UTF8.GetBytes(row.Body(model, "Hi")), bearer: null, headers: headers);
    }

    private static string Model(ClientEndpoint endpoint) =>
        BatteryGateway.ModelFor(BatteryGateway.Routes().First(r => r.Endpoint == endpoint).Upstream);
}
