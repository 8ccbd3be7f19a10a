using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// The shipped <c>deploy/Dockerfile</c>, built and run for real: buildah builds it on two locally made base images (no
/// registry is reachable here; <c>Container/local-bases.sh</c> makes them from this machine's .NET), podman runs it
/// read-only, without capabilities, on loopback, in front of the simulator; one request of each protocol goes through
/// it, and SIGTERM stops it cleanly. Skipped, saying why, only where buildah, podman or runc are not installed
/// (<c>./test.sh</c> installs them as root).
/// </summary>
public sealed class ContainerImageTests
{
    private const string Image = "localhost/mixproxy:test";

    [Fact]
    public async Task ShippedDockerfile_BuildsAndRunsReadOnlyAsNonRoot_ServesEveryProtocol_AndStopsCleanlyOnSigterm()
    {
        var missing = new[] { "buildah", "podman", "runc" }.Where(tool => LocalMachine.FindBinary(tool) is null).ToList();
        Assert.SkipWhen(missing.Count > 0, $"{string.Join(", ", missing)} not installed (Debian packages; ./test.sh installs them as root): the image cannot be built or run here.");
        var ct = TestContext.Current.CancellationToken;
        var repo = TestConfig.RepoFile(".");

        // Local bases, then the Dockerfile as users build it, with only the two base images swapped.
        var bases = (await RunAsync("bash", [Path.Combine(repo, "tests/MixProxy.Tests/Container/local-bases.sh")], TimeSpan.FromMinutes(3))).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var (sdkBase, runtimeBase, dotnetRoot) = (bases[0], bases[1], bases[2]);
        var packages = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"));
        await RunAsync("buildah", [
            "bud", "--format", "docker", "--layers", "--network", "none", "-f", "deploy/Dockerfile", "--ignorefile", "deploy/Dockerfile.dockerignore",
            "--build-arg", $"SDK_IMAGE={sdkBase}", "--build-arg", $"RUNTIME_IMAGE={runtimeBase}",
            "--volume", $"{dotnetRoot}:/usr/share/dotnet:ro", "--volume", $"{packages}:/root/.nuget/packages:ro",
            "-t", Image, "."], TimeSpan.FromMinutes(10), repo);

        // What the image says about itself: a numeric non-root user, a health check, its labels, SIGTERM to stop.
        using (var inspected = JsonDocument.Parse(await RunAsync("podman", ["image", "inspect", Image], TimeSpan.FromSeconds(30))))
        {
            var image = inspected.RootElement[0];
            Assert.Equal("1654", image.GetProperty("Config").GetProperty("User").GetString());
            Assert.Equal("SIGTERM", image.GetProperty("Config").GetProperty("StopSignal").GetString());
            Assert.Contains("probe", image.GetProperty("Healthcheck").GetProperty("Test").ToString(), StringComparison.Ordinal);
            Assert.Equal("MixProxy", image.GetProperty("Labels").GetProperty("org.opencontainers.image.title").GetString());
        }

        // What it holds: the gateway and its shipped settings, no simulator, no demo.
        var files = await ImageFilesAsync("/app");
        Assert.Contains("/app/mixproxy.dll", files);
        Assert.Contains("/app/appsettings.json", files);
        Assert.Contains("/app/config/proxy.json", files);
        Assert.DoesNotContain(files, f => f.Contains("Simulator", StringComparison.Ordinal) || f.Contains("Demo", StringComparison.Ordinal));

        await using var fixture = await GatewayFixture.StartAsync();
        var (port, metricsPort) = (LocalMachine.FreePort(), LocalMachine.FreePort());
        var name = "mixproxy-test-" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            // The config directory is mounted where the image expects it; the host's network, with every listener on 127.0.0.1.
            await RunAsync("podman", [
                "run", "-d", "--name", name, "--network", "host", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "-v", $"{fixture.Directory}:/app/config:ro",
                "-e", $"ASPNETCORE_URLS=http://127.0.0.1:{port}", "-e", $"MixProxy__Telemetry__MetricsPort={metricsPort}", "-e", "MixProxy__Telemetry__MetricsAddress=127.0.0.1",
                "-e", $"TEST_UPSTREAM_KEY={GatewayFixture.UpstreamSecret}", Image], TimeSpan.FromSeconds(60));
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFixture.ClientKey);
            await WaitReadyAsync(client, name);

            var (chat, chatBody, _) = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gemini-3.1-pro-preview","messages":[{"role":"user","content":"Hi"}]}""");
            Assert.Equal(HttpStatusCode.OK, chat);
            Assert.StartsWith("Hello from the MixProxy simulator", chatBody!["choices"]![0]!["message"]!["content"]!.GetValue<string>(), StringComparison.Ordinal);
            var (responses, responsesBody, _) = await client.PostJsonAsync("/v1/responses", """{"model":"gpt-4o-mini","input":"Hi","store":false}""");
            Assert.Equal(HttpStatusCode.OK, responses);
            Assert.Contains("Hello from the MixProxy simulator", responsesBody!["output"]!.ToJsonString(), StringComparison.Ordinal);
            var (gemini, geminiBody, _) = await client.PostJsonAsync("/v1beta/models/gemini-3.1-pro-preview:generateContent", """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""");
            Assert.Equal(HttpStatusCode.OK, gemini);
            Assert.StartsWith("Hello from the MixProxy simulator", geminiBody!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(3, fixture.Upstream.Received.Count);

            // Metrics on their own port; the image's health check command answers from inside the container.
            using var metrics = new HttpClient();
            Assert.Contains("mixproxy_", await metrics.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics", ct), StringComparison.Ordinal);
            await RunAsync("podman", ["exec", name, "dotnet", "/app/mixproxy.dll", "probe", $"http://127.0.0.1:{port}/healthz/ready"], TimeSpan.FromSeconds(30));

            // SIGTERM (the image's stop signal) drains and exits 0 well within the stop timeout.
            var stopping = Stopwatch.StartNew();
            await RunAsync("podman", ["stop", "-t", "30", name], TimeSpan.FromSeconds(60));
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(20), $"stopping took {stopping.Elapsed}");
            Assert.Equal("0", (await RunAsync("podman", ["inspect", name, "--format", "{{.State.ExitCode}}"], TimeSpan.FromSeconds(30))).Trim());
            Assert.Contains("Shutting down", await RunAsync("podman", ["logs", name], TimeSpan.FromSeconds(30)), StringComparison.Ordinal);
        }
        finally
        {
            await RunAsync("podman", ["rm", "-f", name], TimeSpan.FromSeconds(60), check: false);
        }
    }

    private static async Task WaitReadyAsync(HttpClient client, string container)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var ready = await client.GetAsync("/healthz/ready", TestContext.Current.CancellationToken);
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // still starting
            }

            await Task.Delay(200, TestContext.Current.CancellationToken);
        }

        Assert.Fail("The container did not become ready within 30 s:\n" + await RunAsync("podman", ["logs", container], TimeSpan.FromSeconds(30), check: false));
    }

    /// <summary>Every file under <paramref name="root"/> in the image, read from a mounted working container.</summary>
    private static async Task<List<string>> ImageFilesAsync(string root)
    {
        var container = (await RunAsync("buildah", ["from", Image], TimeSpan.FromSeconds(60))).Trim();
        try
        {
            var mount = (await RunAsync("buildah", ["mount", container], TimeSpan.FromSeconds(30))).Trim();
            return [.. Directory.EnumerateFiles(mount + root, "*", SearchOption.AllDirectories).Select(f => f[mount.Length..])];
        }
        finally
        {
            await RunAsync("buildah", ["rm", container], TimeSpan.FromSeconds(30), check: false);
        }
    }

    /// <summary>Runs a tool to its end within <paramref name="timeout"/> (killed after it); its stdout, or a failure naming what it wrote.</summary>
    private static async Task<string> RunAsync(string tool, string[] args, TimeSpan timeout, string? workingDirectory = null, bool check = true)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The sandbox cannot raise ulimits, and there is no systemd for podman's cgroups and health-check timers.
        start.Environment["CONTAINERS_CONF"] = ContainersConf.Value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{tool} {string.Join(' ', args)} ran past {timeout}:\n{await stderr}");
        }

        if (check && process.ExitCode != 0)
        {
            Assert.Fail($"{tool} {string.Join(' ', args)} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }

        return await stdout;
    }

    private static readonly Lazy<string> ContainersConf = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), "mixproxy-tests-containers.conf");
        File.WriteAllText(path, "[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n");
        return path;
    });
}
