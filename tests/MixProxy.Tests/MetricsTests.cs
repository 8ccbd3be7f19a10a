using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// <c>/metrics</c> after real traffic (both protocols, streamed and not, a 429, an upstream error, a config
/// reload): every documented family is there with sane values, and the page passes <c>promtool check metrics</c>.
/// Runs alone: .NET meter listeners are process-wide, so other tests' gateways would add to the counts.
/// </summary>
[Collection(nameof(MetricsTests))]
public sealed class MetricsTests
{
    /// <summary>The families docs/metrics.md documents, as Prometheus names them.</summary>
    public static readonly string[] DocumentedFamilies =
    [
        "gen_ai_client_token_usage",
        "gen_ai_client_operation_duration_seconds",
        "gen_ai_server_request_duration_seconds",
        "gen_ai_server_time_to_first_token_seconds",
        "gen_ai_server_time_per_output_token_seconds",
        "mixproxy_limiter_decisions_total",
        "mixproxy_limiter_degraded",
        "mixproxy_translation_duration_seconds",
        "mixproxy_translation_size_bytes",
        "mixproxy_translation_errors_total",
        "mixproxy_upstream_time_to_first_byte_seconds",
        "mixproxy_upstream_responses_total",
        "mixproxy_gateway_overhead_seconds",
        "mixproxy_cache_lookups_total",
        "mixproxy_stored_results_operations_total",
        "mixproxy_config_reloads_total",
        "mixproxy_config_generation",
        "http_server_request_duration_seconds",
        "http_client_request_duration_seconds",
        "kestrel_active_connections",
    ];

    [Fact]
    public async Task Scrape_AfterRealTraffic_HasEveryDocumentedFamilyWithSaneValues_AndPassesPromtool()
    {
        var key = new LimitedKey(new JsonObject { ["RequestsPerMinute"] = 2 });
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo);
        using var client = gateway.CreateClient();
        using var limited = gateway.CreateClient(key.Value);

        const string Chat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat)).Status);
        var (_, _, stream) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""");
        await stream.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""")).Status);
        var (_, _, geminiStream) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent?alt=sse", """{"contents":[{"parts":[{"text":"Hi"}]}]}""");
        await geminiStream.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.PostJsonAsync("/v1/chat/completions", Chat, ("x-simulator-error", "503"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/chat/completions", Chat, ("x-mixproxy-cache", "on"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.PostJsonAsync("/v1/responses", """{"model":"gemini-3.1-pro-preview","input":"Hi"}""")).Status);
        gateway.Upstream.Enqueue(new MixProxy.Simulator.ScriptedReply(Events: ["""{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}""", """{"error":{"code":500,"message":"boom","status":"INTERNAL"}}"""]));
        var (_, _, broken) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""");
        await broken.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 3; i++)
        {
            await limited.PostJsonAsync("/v1/chat/completions", Chat);
        }

        await File.WriteAllTextAsync(gateway.ConfigPath, "{ broken", TestContext.Current.CancellationToken);
        await Task.Delay(400, TestContext.Current.CancellationToken);

        var page = await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        var samples = Parse(page);

        foreach (var family in DocumentedFamilies)
        {
            Assert.True(samples.Keys.Any(name => name == family || name.StartsWith(family + "_", StringComparison.Ordinal)), $"family {family} is missing from /metrics");
        }

        // Sane values, not just names.
        Assert.Equal(2, Sum(samples, "gen_ai_client_token_usage_count", "gen_ai_token_type=\"input\"", "mixproxy_stream=\"true\""));
        Assert.True(Sum(samples, "gen_ai_client_token_usage_sum", "gen_ai_token_type=\"output\"") >= 8 * 4);
        Assert.True(Sum(samples, "gen_ai_server_time_to_first_token_seconds_count") >= 2);
        Assert.Equal(1, Sum(samples, "mixproxy_limiter_decisions_total", "mixproxy_limiter_outcome=\"denied\"", "mixproxy_limiter_limit=\"requests\""));
        Assert.Equal(2, Sum(samples, "mixproxy_limiter_decisions_total", "mixproxy_limiter_outcome=\"allowed\""));
        Assert.Equal(1, Sum(samples, "mixproxy_upstream_responses_total", "http_response_status_code=\"503\""));
        Assert.Equal(1, Sum(samples, "mixproxy_translation_errors_total", "error_type=\"upstream_error_event\""));
        Assert.Equal(1, Sum(samples, "mixproxy_cache_lookups_total", "mixproxy_cache_result=\"miss\""));
        Assert.Equal(1, Sum(samples, "mixproxy_config_reloads_total", "mixproxy_config_outcome=\"rejected\""));
        Assert.Equal(1, Sum(samples, "mixproxy_config_generation"));
        Assert.Equal(0, Sum(samples, "mixproxy_limiter_degraded"));
        Assert.True(Sum(samples, "mixproxy_gateway_overhead_seconds_sum") < Sum(samples, "gen_ai_server_request_duration_seconds_sum"));
        Assert.DoesNotContain(GatewayFixture.ClientKey, page, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Value, page, StringComparison.Ordinal);

        await PromtoolAsync(page);
    }

    [Fact]
    public async Task MetricsEndpoint_RefusesNonLoopbackCallersWhenNoMetricsPortIsSet_AndServesItsOwnPortWhenSet()
    {
        var port = LocalMachine.FreePort();
        await using var gateway = await GatewayFixture.StartAsync(args: [$"--MixProxy:Telemetry:MetricsPort={port}", "--MixProxy:Telemetry:MetricsAddress=127.0.0.1"]);
        using var main = gateway.CreateClient();
        using var metricsPort = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using var onMain = await main.GetAsync("/metrics", TestContext.Current.CancellationToken);
        var onOwnPort = await metricsPort.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        metricsPort.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFixture.ClientKey);
        var (apiOnMetricsPort, _, _) = await metricsPort.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.NotFound, onMain.StatusCode);
        Assert.Contains("mixproxy_config_generation", onOwnPort, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, apiOnMetricsPort);
    }

    /// <summary>Runs Prometheus' own linter on the page; ./test.sh and CI install it (Debian package prometheus).</summary>
    private static async Task PromtoolAsync(string page)
    {
        var start = new ProcessStartInfo("promtool", "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("promtool is not installed: apt-get install -y prometheus (./test.sh does it).");
        }

        using (process)
        {
            await process!.StandardInput.WriteAsync(page);
            process.StandardInput.Close();
            var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken) + await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(process.ExitCode == 0 && output.Trim().Length == 0, "promtool check metrics: " + output);
        }
    }

    private static Dictionary<string, List<(string Labels, double Value)>> Parse(string page)
    {
        var samples = new Dictionary<string, List<(string, double)>>(StringComparer.Ordinal);
        foreach (var line in page.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var space = line.LastIndexOf(' ');
            var name = brace > 0 ? line[..brace] : line[..line.IndexOf(' ', StringComparison.Ordinal)];
            var labels = brace > 0 ? line[brace..(line.LastIndexOf('}') + 1)] : string.Empty;
            var valueText = line[(space + 1)..];
            if (!double.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                // The line may end with a timestamp: take the token before it.
                var parts = line[(labels.Length + name.Length)..].Trim().Split(' ');
                value = double.Parse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            if (!samples.TryGetValue(name, out var list))
            {
                samples[name] = list = [];
            }

            list.Add((labels, value));
        }

        return samples;
    }

    private static double Sum(Dictionary<string, List<(string Labels, double Value)>> samples, string name, params string[] labels) =>
        samples.TryGetValue(name, out var list) ? list.Where(s => labels.All(l => s.Labels.Contains(l, StringComparison.Ordinal))).Sum(s => s.Value) : 0;

    [CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
    public sealed class RunsAlone;
}
