using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MixProxy.Lifecycle;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// What <c>deploy/</c> ships for running a fleet: every Kustomize overlay renders and every object validates against the
/// Kubernetes and Prometheus Operator schemas (<c>deploy/check/validate.mjs</c>); the Deployment drains longer than the
/// gateway does, probes its health endpoints and runs locked down as the image expects; the Compose file is valid and
/// everything it refers to exists; the configs both ship are configs the gateway accepts.
/// </summary>
public sealed class DeployManifestTests
{
    private static readonly Lazy<Task<JsonObject>> Rendered = new(() => NodeJsonAsync("deploy/check/validate.mjs", "kubectl"));

    [Fact]
    public async Task EveryKustomization_Renders_AndEveryObjectValidatesAgainstItsSchema()
    {
        var rendered = await RenderedAsync();

        Assert.Equal(["deploy/k8s/base", "deploy/k8s/overlays/production"], rendered.Select(d => d.Key).Order(StringComparer.Ordinal));
        Assert.Equal(
            ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Namespace", "PodDisruptionBudget", "PrometheusRule", "Service", "ServiceAccount", "ServiceMonitor"],
            Objects(rendered, "deploy/k8s/overlays/production").Select(o => o["kind"]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Deployment_WaitsLongerThanTheGatewayDrains_AndProbesItsHealthEndpoints()
    {
        var deployment = Single(await RenderedAsync(), "Deployment");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;

        // Kubernetes kills the pod after the grace period: it must cover the preStop pause, the drain and its last step.
        var preStop = TimeSpan.FromSeconds(container["lifecycle"]!["preStop"]!["sleep"]!["seconds"]!.GetValue<int>());
        var drain = TimeSpan.Parse(Env(container, "MixProxy__Lifecycle__DrainTimeout"), CultureInfo.InvariantCulture);
        var grace = TimeSpan.FromSeconds(pod["terminationGracePeriodSeconds"]!.GetValue<int>());
        Assert.True(grace > preStop + drain + GatewayDrain.Grace, $"grace {grace} ≤ preStop {preStop} + drain {drain} + {GatewayDrain.Grace}");
        Assert.True(preStop >= TimeSpan.FromSeconds(5), "endpoints need a few seconds to stop sending to a terminating pod");

        Assert.Equal("/healthz/ready", container["readinessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal("/healthz/live", container["livenessProbe"]!["httpGet"]!["path"]!.GetValue<string>());
        Assert.Equal(0, deployment["spec"]!["strategy"]!["rollingUpdate"]!["maxUnavailable"]!.GetValue<int>());
        Assert.NotNull(container["resources"]!["requests"]!["cpu"]);
        Assert.NotNull(container["resources"]!["limits"]!["memory"]);
        Assert.Equal(2, pod["topologySpreadConstraints"]!.AsArray().Count);
    }

    [Fact]
    public async Task Deployment_RunsTheImageAsItExpects_NonRootReadOnlyWithItsConfigMountedAndMetricsScraped()
    {
        var rendered = await RenderedAsync();
        var pod = Single(rendered, "Deployment")["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;
        var dockerfile = await File.ReadAllTextAsync(TestConfig.RepoFile("deploy/Dockerfile"), TestContext.Current.CancellationToken);

        Assert.Contains($"ARG APP_UID={pod["securityContext"]!["runAsUser"]}", dockerfile, StringComparison.Ordinal);
        Assert.True(pod["securityContext"]!["runAsNonRoot"]!.GetValue<bool>());
        Assert.True(container["securityContext"]!["readOnlyRootFilesystem"]!.GetValue<bool>());
        Assert.False(container["securityContext"]!["allowPrivilegeEscalation"]!.GetValue<bool>());

        // The whole directory is mounted (a subPath would never see a ConfigMap update), where the image reads it.
        var config = container["volumeMounts"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "config")!;
        Assert.Null(config["subPath"]);
        Assert.Equal(Path.GetDirectoryName(Env(container, "MIXPROXY_CONFIG")), config["mountPath"]!.GetValue<string>());
        var configMap = pod["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == "config")!["configMap"]!["name"]!.GetValue<string>();
        Assert.Equal(configMap, Single(rendered, "ConfigMap")["metadata"]!["name"]!.GetValue<string>());

        // The ServiceMonitor scrapes the Service's metrics port, which is the container's metrics port.
        var metricsPort = container["ports"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "metrics")!["containerPort"]!.GetValue<int>();
        Assert.Equal(metricsPort.ToString(CultureInfo.InvariantCulture), Env(container, "MixProxy__Telemetry__MetricsPort"));
        var endpoint = Single(rendered, "ServiceMonitor")["spec"]!["endpoints"]![0]!;
        Assert.Equal("/metrics", endpoint["path"]!.GetValue<string>());
        Assert.Contains(Single(rendered, "Service")["spec"]!["ports"]!.AsArray(), p => p!["name"]!.GetValue<string>() == endpoint["port"]!.GetValue<string>() && p["targetPort"]!.GetValue<string>() == "metrics");
        Assert.Contains("MIXPROXY_REDIS", container["env"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ProductionOverlayConfigMap_HoldsAConfigTheGatewayAccepts()
    {
        var proxyJson = Single(await RenderedAsync(), "ConfigMap")["data"]!["proxy.json"]!.GetValue<string>();
        await AssertGatewayAcceptsAsync(proxyJson);
    }

    [Fact]
    public async Task ComposeFile_IsValid_EverythingItRefersToExists_AndItsGatewayConfigIsAccepted()
    {
        var compose = await NodeJsonAsync("deploy/check/compose.mjs", "docker-compose");
        var services = compose["services"]!.AsObject();
        Assert.Equal(["grafana", "lb", "mixproxy-1", "mixproxy-2", "prometheus", "redis", "simulator"], services.Select(s => s.Key).Order(StringComparer.Ordinal));

        foreach (var (name, service) in services)
        {
            foreach (var volume in service!["volumes"]?.AsArray() ?? [])
            {
                var source = volume!.GetValue<string>().Split(':')[0];
                Assert.True(File.Exists(source) || Directory.Exists(source), $"{name} mounts {source}, which does not exist");
            }

            if (service["build"] is { } build)
            {
                var dockerfile = Path.Combine(build["context"]!.GetValue<string>(), build["dockerfile"]!.GetValue<string>());
                Assert.True(File.Exists(dockerfile), $"{name} builds {dockerfile}, which does not exist");
            }

            foreach (var port in service["ports"]?.AsArray() ?? [])
            {
                Assert.StartsWith("127.0.0.1:", port!.GetValue<string>(), StringComparison.Ordinal);
            }
        }

        // The load balancer sends to both replicas, and Prometheus scrapes both.
        var nginx = await File.ReadAllTextAsync(TestConfig.RepoFile("deploy/compose/nginx.conf"), TestContext.Current.CancellationToken);
        var prometheus = await File.ReadAllTextAsync(TestConfig.RepoFile("deploy/compose/prometheus.yml"), TestContext.Current.CancellationToken);
        foreach (var replica in new[] { "mixproxy-1", "mixproxy-2" })
        {
            Assert.Contains($"server {replica}:8080", nginx, StringComparison.Ordinal);
            Assert.Contains($"\"{replica}:9464\"", prometheus, StringComparison.Ordinal);
        }

        Assert.Contains("proxy_buffering off", nginx, StringComparison.Ordinal);
        await AssertGatewayAcceptsAsync(await File.ReadAllTextAsync(TestConfig.RepoFile("deploy/compose/config/proxy.json"), TestContext.Current.CancellationToken));
    }

    private static async Task<JsonObject> RenderedAsync() => await Rendered.Value;

    private static IEnumerable<JsonNode> Objects(JsonObject rendered, string directory) => rendered[directory]!.AsArray().Select(o => o!);

    private static JsonNode Single(JsonObject rendered, string kind) =>
        Objects(rendered, "deploy/k8s/overlays/production").Single(o => o["kind"]!.GetValue<string>() == kind);

    private static string Env(JsonNode container, string name) =>
        container["env"]!.AsArray().Single(e => e!["name"]!.GetValue<string>() == name)!["value"]!.GetValue<string>();

    /// <summary>Builds a gateway on <paramref name="json"/> as its start-up would, every credential variable set.</summary>
    private static async Task AssertGatewayAcceptsAsync(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), "mixproxy-deploy-config-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(path, json, TestContext.Current.CancellationToken);
        try
        {
            await using var gateway = await GatewayHost.BuildAsync(new GatewayHostSettings { ConfigPath = path, Urls = "http://127.0.0.1:0", Environment = _ => "credential" });
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Runs one of deploy/check's scripts with node and parses what it prints; its errors fail the test.</summary>
    private static async Task<JsonObject> NodeJsonAsync(string script, string tool)
    {
        Assert.SkipWhen(LocalMachine.FindBinary(tool) is null, $"{tool} is not installed: the deploy check cannot run here (./test.sh installs docker-compose as root; kubectl comes with the machine image).");
        Assert.True(Directory.Exists(TestConfig.RepoFile("deploy/check/node_modules")), "deploy/check/node_modules is missing: ./test.sh runs npm ci there.");
        var start = new ProcessStartInfo("node", [script]) { WorkingDirectory = TestConfig.RepoFile("."), RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(limit.Token);
        Assert.True(process.ExitCode == 0, $"{script} found problems:\n{await stderr}");
        return JsonNode.Parse(await stdout)!.AsObject();
    }
}
