using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// A real Prometheus (Debian's package) on loopback scrapes a gateway that served real traffic; then every PromQL
/// expression of the shipped dashboard and alert rules is evaluated through Prometheus' HTTP API. Each must parse,
/// and every dashboard query must return data.
/// </summary>
[Collection(nameof(MetricsTests))]
public sealed partial class PrometheusDashboardTests
{
    [Fact]
    public async Task ShippedDashboardAndAlertRules_EvaluateAgainstARealPrometheus()
    {
        Assert.True(LocalMachine.FindBinary("prometheus") is not null, "prometheus is not installed: apt-get install -y prometheus (./test.sh does it).");
        await using var redis = await RedisServer.StartAsync();
        var metricsPort = LocalMachine.FreePort();
        var key = new LimitedKey(new JsonObject { ["RequestsPerMinute"] = 3 });
        await using var gateway = await GatewayFixture.StartAsync(key.AddTo, redis.ConnectionString, [$"--MixProxy:Telemetry:MetricsPort={metricsPort}", "--MixProxy:Telemetry:MetricsAddress=127.0.0.1", "--MixProxy:Telemetry:KeyLabels=true"]);
        var directory = Directory.CreateTempSubdirectory("mixproxy-prometheus-");
        var prometheusPort = LocalMachine.FreePort();
        File.Copy(TestConfig.RepoFile("deploy/prometheus/alerts.yml"), Path.Combine(directory.FullName, "alerts.yml"));
        await File.WriteAllTextAsync(Path.Combine(directory.FullName, "prometheus.yml"), $"""
            global: {"{"} scrape_interval: 1s, evaluation_interval: 1s {"}"}
            rule_files: [alerts.yml]
            scrape_configs:
              - job_name: mixproxy
                static_configs: [{"{"} targets: ["127.0.0.1:{metricsPort}"] {"}"}]
            """, TestContext.Current.CancellationToken);

        using var prometheus = Process.Start(new ProcessStartInfo("prometheus",
            $"--config.file={directory.FullName}/prometheus.yml --storage.tsdb.path={directory.FullName}/data --web.listen-address=127.0.0.1:{prometheusPort} --log.level=warn")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        prometheus.OutputDataReceived += (_, _) => { };
        prometheus.ErrorDataReceived += (_, _) => { };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        try
        {
            await DriveTrafficAsync(gateway, key);
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheusPort}") };

            // Let a few scrapes land (1 s apart) so rates have two points.
            await WaitForScrapesAsync(api, scrapes: 4);

            var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(TestConfig.RepoFile("deploy/grafana/dashboards/mixproxy.json"), TestContext.Current.CancellationToken))!;
            var panelQueries = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray().Select(t => (Panel: p["title"]!.GetValue<string>(), Expr: t!["expr"]!.GetValue<string>()))).ToList();
            var templateQueries = dashboard["templating"]!["list"]!.AsArray().Where(v => v!["type"]!.GetValue<string>() == "query").Select(v => v!["definition"]!.GetValue<string>()).ToList();
            var alertExpressions = AlertExpressions(await File.ReadAllTextAsync(TestConfig.RepoFile("deploy/prometheus/alerts.yml"), TestContext.Current.CancellationToken));

            Assert.True(panelQueries.Count >= 15 && alertExpressions.Count >= 8);
            var failures = new List<string>();
            foreach (var (panel, expr) in panelQueries)
            {
                var (ok, results, error) = await QueryAsync(api, Grafana(expr));
                if (!ok || results == 0)
                {
                    failures.Add($"panel '{panel}': {(ok ? "no data" : error)} for {expr}");
                }
            }

            foreach (var definition in templateQueries)
            {
                // label_values(metric, label) is Grafana's; the series behind it must exist.
                var metric = LabelValuesMetric().Match(definition).Groups[1].Value;
                var (ok, results, error) = await QueryAsync(api, metric);
                if (!ok || results == 0)
                {
                    failures.Add($"variable {definition}: {(ok ? "no data" : error)}");
                }
            }

            foreach (var expr in alertExpressions)
            {
                var (ok, _, error) = await QueryAsync(api, expr);
                if (!ok)
                {
                    failures.Add($"alert rule does not evaluate: {error} for {expr}");
                }
            }

            Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync(TestContext.Current.CancellationToken);
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Traffic that touches every panel: both protocols, streams, a 429, an upstream error, a cache hit, a broken stream, an upstream cooling down, a rejected reload.</summary>
    private static async Task DriveTrafficAsync(GatewayFixture gateway, LimitedKey key)
    {
        using var client = gateway.CreateClient();
        using var limited = gateway.CreateClient(key.Value);
        const string Chat = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""";
        const string Stream = """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}],"stream":true}""";
        for (var i = 0; i < 3; i++)
        {
            await client.PostJsonAsync("/v1/chat/completions", Chat);
            var (_, _, stream) = await client.PostJsonAsync("/v1/chat/completions", Stream);
            await stream.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[{"parts":[{"text":"Hi"}]}]}""");
            await client.PostJsonAsync("/v1/chat/completions", Chat, ("x-mixproxy-cache", "on"));
        }

        await client.PostJsonAsync("/v1/chat/completions", Chat, ("x-simulator-error", "503"));
        gateway.Upstream.Enqueue(new MixProxy.Simulator.ScriptedReply(Events: ["""{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}""", """{"error":{"code":500,"message":"boom","status":"INTERNAL"}}"""]));
        var (_, _, broken) = await client.PostJsonAsync("/v1/chat/completions", Stream);
        await broken.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        for (var i = 0; i < 5; i++)
        {
            var (status, _, _) = await limited.PostJsonAsync("/v1/chat/completions", Chat);
            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests);
        }

        // Last, as it takes the only destination out for 7 s (Google's RetryInfo): a 429 that cools it down, then a
        // request no upstream can take.
        await client.PostJsonAsync("/v1/chat/completions", Chat, ("x-simulator-error", "429"));
        var (unserved, _, _) = await client.PostJsonAsync("/v1/chat/completions", Chat);
        Assert.Equal(HttpStatusCode.TooManyRequests, unserved);

        await File.WriteAllTextAsync(gateway.ConfigPath, "{ broken", TestContext.Current.CancellationToken);
    }

    /// <summary>Grafana's variables, as a dashboard user with "All" selected would have them.</summary>
    private static string Grafana(string expr) =>
        expr.Replace("$__rate_interval", "1m", StringComparison.Ordinal).Replace("$model", ".*", StringComparison.Ordinal).Replace("$cluster", ".*", StringComparison.Ordinal);

    private static async Task<(bool Ok, int Results, string Error)> QueryAsync(HttpClient api, string expr)
    {
        using var response = await api.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(expr), TestContext.Current.CancellationToken);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        return body["status"]?.GetValue<string>() == "success"
            ? (true, body["data"]!["result"]!.AsArray().Count, string.Empty)
            : (false, 0, body["error"]?.GetValue<string>() ?? response.StatusCode.ToString());
    }

    private static async Task WaitForScrapesAsync(HttpClient api, int scrapes)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await api.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString("min(count_over_time(up{job=\"mixproxy\"}[1m]) * up{job=\"mixproxy\"})"), TestContext.Current.CancellationToken);
                last = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
                var value = JsonNode.Parse(last)!["data"]?["result"]?.AsArray().FirstOrDefault()?["value"]?[1]?.GetValue<string>();
                if (value is not null && double.Parse(value, System.Globalization.CultureInfo.InvariantCulture) >= scrapes)
                {
                    return;
                }
            }
            catch (HttpRequestException e)
            {
                last = e.Message; // Prometheus is still starting.
            }

            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException("Prometheus did not scrape MixProxy successfully within 30 s: " + last);
    }

    private static List<string> AlertExpressions(string yaml)
    {
        // A small reader for the rules file's "expr:" entries (single line, or a | block indented below).
        var lines = yaml.Split('\n');
        var expressions = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            if (!trimmed.StartsWith("expr:", StringComparison.Ordinal))
            {
                continue;
            }

            var value = trimmed[5..].Trim();
            if (value != "|")
            {
                expressions.Add(value);
                continue;
            }

            var indent = lines[i].Length - trimmed.Length;
            var block = new List<string>();
            while (i + 1 < lines.Length && (lines[i + 1].Length - lines[i + 1].TrimStart().Length > indent || lines[i + 1].Trim().Length == 0) && lines[i + 1].Trim().Length > 0)
            {
                block.Add(lines[++i].Trim());
            }

            expressions.Add(string.Join(" ", block));
        }

        return expressions;
    }

    [GeneratedRegex(@"label_values\(([^,]+),")]
    private static partial Regex LabelValuesMetric();
}
