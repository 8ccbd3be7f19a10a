using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// OpenAI clients (Chat Completions and the Responses API) on a Gemini model, end to end: a hint Gemini has no place
/// for is dropped and reported to the client in <c>x-mixproxy-dropped</c>, in the notation the client wrote.
/// </summary>
public sealed class FidelityOpenAIClientTests
{
    [Fact]
    public async Task ChatVerbosity_OnAGeminiModel_IsDroppedAndReportedInTheHeader()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, _, response) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hello"}],"verbosity":"low"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("verbosity", response.Headers.GetValues("x-mixproxy-dropped").Single());
        Assert.DoesNotContain("verbosity", gateway.Upstream.Received.Single().Body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ResponsesTextVerbosity_OnAGeminiModel_IsReportedUnderItsResponsesName()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();

        var (status, _, response) = await client.PostJsonAsync("/v1/responses", """{"model":"gemini-3.1-pro-preview","input":"Hello","text":{"verbosity":"low"},"store":false}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text.verbosity", response.Headers.GetValues("x-mixproxy-dropped").Single());
    }

    /// <summary>
    /// Unlisted fields are named as the client wrote them, so the metric's field label is bounded: a client sending a
    /// new name on every request must not mint a series each time. The header still names every one.
    /// </summary>
    [Fact]
    public async Task ManyUnlistedFields_AreAllNamedInTheHeader_ButTheMetricsFieldLabelIsBounded()
    {
        await using var gateway = await GatewayFixture.StartAsync();
        using var client = gateway.CreateClient();
        var extras = string.Concat(Enumerable.Range(0, 250).Select(i => $",\"extra_{i}\":1"));

        var (status, _, response) = await client.PostJsonAsync("/v1/chat/completions", $$"""{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hello"}]{{extras}}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(250, response.Headers.GetValues("x-mixproxy-dropped").Single().Split(", ").Length);
        var page = string.Empty;
        for (var attempt = 0; attempt < 50 && !page.Contains("mixproxy_field=\"(other)\"", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(attempt == 0 ? 0 : 100, TestContext.Current.CancellationToken);
            page = await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        }

        // Other tests' gateways in this process export through the same meter name: only this test's names are counted.
        var series = page.Split('\n').Where(line => line.StartsWith("mixproxy_translation_dropped_total{", StringComparison.Ordinal)).ToList();
        Assert.Equal(200, series.Count(line => line.Contains("mixproxy_field=\"extra_", StringComparison.Ordinal))); // 200 named…
        Assert.Contains(series, line => line.Contains("mixproxy_field=\"(other)\"", StringComparison.Ordinal) && line.EndsWith(" 50", StringComparison.Ordinal)); // …and the rest together
    }

    [Fact]
    public async Task ChatVerbosity_OnAStrictModel_IsRefusedNamingIt()
    {
        await using var gateway = await GatewayFixture.StartAsync(config => config["Models"]![0]!["StrictTranslation"] = true);
        using var client = gateway.CreateClient();

        var (status, body, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hello"}],"verbosity":"low"}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("verbosity", body!["error"]!["param"]!.GetValue<string>());
        Assert.Empty(gateway.Upstream.Received);
    }
}
