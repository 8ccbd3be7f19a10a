extern alias Simulator;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using MixProxy.Soak;
using Simulator::MixProxy.Simulator;

// The soak run (bench/soak.sh): a gateway process with its shipped defaults, a real redis-server, the simulator in this
// process; mixed traffic from --concurrency workers for --duration-s seconds, with faults injected all along. Every loop
// is bounded by the deadline, every request by a client timeout; everything listens on 127.0.0.1.
var options = args.Chunk(2).ToDictionary(pair => pair[0].TrimStart('-'), pair => pair[1]);
string Arg(string name, string fallback) => options.GetValueOrDefault(name, fallback);
var configPath = Arg("config", "");
var gatewayDll = Arg("gateway", "src/MixProxy/bin/Release/net10.0/mixproxy.dll");
var simPort = int.Parse(Arg("sim-port", "18190"));
var gwPort = int.Parse(Arg("gw-port", "18180"));
var redisPort = int.Parse(Arg("redis-port", "18179"));
var duration = TimeSpan.FromSeconds(int.Parse(Arg("duration-s", "180")));
var concurrency = int.Parse(Arg("concurrency", "8"));
var seed = int.Parse(Arg("seed", "15"));
var reportPath = Arg("report", "");
if (duration > TimeSpan.FromHours(1) || concurrency is < 1 or > 64)
{
    Console.Error.WriteLine("duration-s at most 3600 and concurrency 1..64: the soak is bounded.");
    return 2;
}

var clock = Stopwatch.StartNew();
string At() => clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
var events = new ConcurrentQueue<string>();
void Note(string what)
{
    events.Enqueue($"{At()}: {what}");
    Console.Error.WriteLine($"[soak {At()}] {what}");
}

// The upstream: the simulator, with a tap that adds up the usage it reports.
var simulatorState = new SimulatorState();
var simulator = SimulatorApp.Build($"http://127.0.0.1:{simPort}", new SimulatorOptions { ChunkInterval = TimeSpan.FromMilliseconds(2), StreamChunks = 6 }, simulatorState);
var tap = new UsageTap();
simulator.Use((context, next) => tap.InvokeAsync(context, () => next(context)));
await simulator.StartAsync();

// Redis, owned so it can be killed, restarted and frozen.
var redisBinary = Arg("redis-server", "redis-server");
Process StartRedis() => Process.Start(new ProcessStartInfo(redisBinary, $"--port {redisPort} --bind 127.0.0.1 --save \"\" --appendonly no") { RedirectStandardOutput = true })!;
var redis = StartRedis();
await WaitAsync(() => TcpOpen(redisPort), TimeSpan.FromSeconds(10), "redis-server");

// The config: the benchmark's (bench_config), plus a rate-limited key, so the limiter, Redis and token settlement are in play.
var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
var soakKey = "soak-key-" + seed.ToString(CultureInfo.InvariantCulture);
JsonObject LimitedKey(int rpm) => new()
{
    ["Name"] = "soak",
    ["Hash"] = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(soakKey))),
    ["Models"] = new JsonArray("*"),
    ["Limits"] = new JsonObject { ["RequestsPerMinute"] = rpm, ["TokensPerMinute"] = 100_000_000, ["ConcurrentRequests"] = 256 },
};
config["Keys"]!.AsArray().Add(LimitedKey(1_000_000));

// Upstream 5xx and 429 answers take a destination out of rotation (a 429 at once, for its retry delay; 5xx after three
// in a row): the requests that carry an injected error go to models on clusters of their own (the same simulator), so
// the cooldowns they cause show on them and do not starve the rest of the traffic.
var clusters = config["ReverseProxy"]!["Clusters"]!.AsObject();
foreach (var lane in new[] { "faulty", "quota" })
{
    clusters[lane] = clusters["sim"]!.DeepClone();
    config["Models"]!.AsArray().Add(new JsonObject { ["Name"] = $"gpt-{lane}", ["Cluster"] = lane, ["Protocols"] = new JsonArray("OpenAI") });
    config["Models"]!.AsArray().Add(new JsonObject { ["Name"] = $"gemini-{lane}", ["Cluster"] = lane, ["Protocols"] = new JsonArray("Gemini") });
}

File.WriteAllText(configPath, config.ToJsonString());

var gatewayLog = new ConcurrentQueue<string>();
var gatewayStart = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
foreach (var arg in new[] { gatewayDll, "--config", configPath, "--urls", $"http://127.0.0.1:{gwPort}", $"--MixProxy:RateLimiting:Redis=127.0.0.1:{redisPort}" })
{
    gatewayStart.ArgumentList.Add(arg);
}

using var gateway = Process.Start(gatewayStart)!;
gateway.OutputDataReceived += (_, e) => { if (e.Data is { } line) { gatewayLog.Enqueue(line); } };
gateway.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { gatewayLog.Enqueue(line); } };
gateway.BeginOutputReadLine();
gateway.BeginErrorReadLine();
using var operatorClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gwPort}"), Timeout = TimeSpan.FromSeconds(5) };
await WaitAsync(async () => (await operatorClient.GetAsync("/healthz/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "the gateway");
Note($"gateway pid {gateway.Id} ready; {concurrency} workers for {duration.TotalSeconds} s");

using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = operatorClient.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
client.DefaultRequestHeaders.Authorization = new("Bearer", soakKey);
using var stop = new CancellationTokenSource();
var traffic = new Stopwatch();

// Workers hold one permit per request; a scripted fault takes them all, so its scripted reply reaches its own request.
var gate = new SemaphoreSlim(concurrency, concurrency);
var outcomes = new ConcurrentDictionary<(string Scenario, string Injected, string Outcome), int>();
long clientTokens = 0;
long completed = 0;
long slowestMs = 0;
var headerFaults = new (double Probability, string Status)[] { (0.02, "503"), (0.01, "500"), (0.02, "429") };

async Task WorkerAsync(int index)
{
    var random = new Random(seed * 1000 + index);
    while (!stop.IsCancellationRequested)
    {
        var scenario = Scenario.All[random.Next(Scenario.All.Count)];
        var roll = random.NextDouble();
        string? injected = null;
        foreach (var (probability, status) in headerFaults)
        {
            if (roll < probability)
            {
                injected = status;
                break;
            }

            roll -= probability;
        }

        try
        {
            await gate.WaitAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            var headers = injected is null ? null : new Dictionary<string, string> { ["x-simulator-error"] = injected };
            var lane = injected is null ? scenario : scenario.OnLane(injected == "429" ? "quota" : "faulty");
            var started = Stopwatch.GetTimestamp();
            var (outcome, tokens) = await ClientCall.SendAsync(client, lane, headers, CancellationToken.None);
            Interlocked.Increment(ref completed);
            var tookMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            long seen;
            while (tookMs > (seen = Interlocked.Read(ref slowestMs)) && Interlocked.CompareExchange(ref slowestMs, tookMs, seen) != seen)
            {
            }

            outcomes.AddOrUpdate((scenario.Name, injected is null ? "-" : "upstream " + injected, outcome), 1, (_, n) => n + 1);
            if (tokens is { } t && outcome == "ok")
            {
                Interlocked.Add(ref clientTokens, t);
            }
        }
        finally
        {
            gate.Release();
        }
    }
}

// Scripted upstream faults, one every two seconds in rotation, each alone on the wire.
const string ChatChunk = """{"id":"chatcmpl-soak","object":"chat.completion.chunk","created":1,"model":"gpt-bench","choices":[{"index":0,"delta":{"content":"Half an ans"},"finish_reason":null}]}""";
const string GeminiChunk = """{"candidates":[{"content":{"role":"model","parts":[{"text":"Half an ans"}]},"index":0}],"modelVersion":"gemini-bench"}""";
var html = new Dictionary<string, string> { ["Content-Type"] = "text/html; charset=UTF-8" };
var scriptedFaults = new (string Name, Scenario Request, ScriptedReply Reply)[]
{
    ("reset after 2 events", Scenario.Chat("chat passthrough stream", "gpt-bench", true), new ScriptedReply(Events: [ChatChunk, ChatChunk, ChatChunk]) { AbortAfterEvents = 2 }),
    ("reset after 2 events", Scenario.Chat("chat -> gemini stream", "gemini-bench", true), new ScriptedReply(Events: [GeminiChunk, GeminiChunk, GeminiChunk]) { AbortAfterEvents = 2 }),
    ("reset after 2 events", Scenario.Gemini("gemini passthrough stream", "gemini-bench", true), new ScriptedReply(Events: [GeminiChunk, GeminiChunk, GeminiChunk]) { AbortAfterEvents = 2 }),
    ("reset after 2 events", Scenario.Responses("responses -> gemini stream", "gemini-bench", true), new ScriptedReply(Events: [GeminiChunk, GeminiChunk, GeminiChunk]) { AbortAfterEvents = 2 }),
    ("reset right after the headers", Scenario.Chat("chat -> gemini stream", "gemini-bench", true), new ScriptedReply(Events: [GeminiChunk]) { AbortAfterEvents = 0 }),
    ("reset right after the headers", Scenario.Gemini("gemini -> chat stream", "gpt-bench", true), new ScriptedReply(Events: [ChatChunk]) { AbortAfterEvents = 0 }),
    ("stream ends without terminator", Scenario.Chat("chat passthrough stream", "gpt-bench", true), new ScriptedReply(Events: [ChatChunk, ChatChunk])),
    ("stream ends without terminator", Scenario.Gemini("gemini -> chat stream", "gpt-bench", true), new ScriptedReply(Events: [ChatChunk, ChatChunk])),
    ("stream ends without terminator", Scenario.Chat("chat -> gemini stream", "gemini-bench", true), new ScriptedReply(Events: [GeminiChunk, GeminiChunk])),
    ("stream ends without terminator", Scenario.Gemini("gemini passthrough stream", "gemini-bench", true), new ScriptedReply(Events: [GeminiChunk, GeminiChunk])),
    ("stream ends without terminator", Scenario.Anthropic("anthropic -> gemini stream", "gemini-bench", true), new ScriptedReply(Events: [GeminiChunk, GeminiChunk])),
    ("reset after 2 events", Scenario.Anthropic("anthropic -> chat stream", "gpt-bench", true), new ScriptedReply(Events: [ChatChunk, ChatChunk, ChatChunk]) { AbortAfterEvents = 2 }),
    ("HTML 502 page", Scenario.Anthropic("anthropic -> gemini", "gemini-bench", false), new ScriptedReply(502, "<html><body>502 Bad Gateway</body></html>") { Headers = html }),
    ("malformed SSE event", Scenario.Chat("chat -> gemini stream", "gemini-bench", true), new ScriptedReply(Events: [GeminiChunk, "{not json"])),
    ("HTML 502 page", Scenario.Gemini("gemini passthrough", "gemini-bench", false), new ScriptedReply(502, "<html><body>502 Bad Gateway</body></html>") { Headers = html }),
    ("HTML 502 page", Scenario.Chat("chat -> gemini", "gemini-bench", false), new ScriptedReply(502, "<html><body>502 Bad Gateway</body></html>") { Headers = html }),
    ("HTML 502 page", Scenario.Chat("chat passthrough", "gpt-bench", false), new ScriptedReply(502, "<html><body>502 Bad Gateway</body></html>") { Headers = html }),
    ("non-JSON 200 body", Scenario.Chat("chat -> gemini", "gemini-bench", false), new ScriptedReply(200, "not json at all")),
};

async Task FaultLaneAsync()
{
    for (var i = 0; !stop.IsCancellationRequested; i++)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2), stop.Token);
            for (var held = 0; held < concurrency; held++)
            {
                await gate.WaitAsync(stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            simulatorState.Clear(); // also drops the recorded requests, which would otherwise grow for the whole run
            var (name, request, reply) = scriptedFaults[i % scriptedFaults.Length];
            simulatorState.Enqueue(reply);
            var (outcome, _) = await ClientCall.SendAsync(client, request, null, CancellationToken.None);
            outcomes.AddOrUpdate((request.Name, "scripted: " + name, outcome), 1, (_, n) => n + 1);
            simulatorState.Clear();
        }
        finally
        {
            gate.Release(concurrency);
        }
    }
}

// Redis killed and restarted, a config edit, Redis frozen and thawed: at fixed fractions of the run.
var readiness = new ConcurrentQueue<(double At, string State)>();
async Task ChaosAsync()
{
    async Task Until(double fraction) => await Task.Delay(TimeSpan.FromTicks(Math.Max(0, (long)(duration.Ticks * fraction) - traffic.Elapsed.Ticks)), stop.Token);
    try
    {
        await Until(0.20);
        redis.Kill();
        await redis.WaitForExitAsync();
        Note("redis-server killed (SIGKILL)");
        await Task.Delay(TimeSpan.FromSeconds(10), stop.Token);
        redis.Dispose();
        redis = StartRedis();
        Note("redis-server restarted, empty");

        await Until(0.45);
        config["Keys"]!.AsArray().RemoveAt(config["Keys"]!.AsArray().Count - 1);
        config["Keys"]!.AsArray().Add(LimitedKey(900_000));
        File.WriteAllText(configPath, config.ToJsonString());
        Note("config edited (the soak key's RequestsPerMinute 1000000 -> 900000)");
        var edited = clock.Elapsed;
        await WaitAsync(async () => (await operatorClient.GetStringAsync("/healthz/ready")).Contains("generation 2", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "config generation 2");
        Note($"config generation 2 in force after {(clock.Elapsed - edited).TotalMilliseconds:0} ms");

        await Until(0.65);
        Note(Signal(redis.Id, 19) == 0 ? "redis-server frozen (SIGSTOP)" : "SIGSTOP failed");
        await Task.Delay(TimeSpan.FromSeconds(8), stop.Token);
        Note(Signal(redis.Id, 18) == 0 ? "redis-server thawed (SIGCONT)" : "SIGCONT failed");
    }
    catch (OperationCanceledException)
    {
    }
}

// Readiness every 250 ms (its transitions), memory every 5 s.
var memory = new List<(double At, double RssMb, double HeapMb, double AllocatedMb, long Requests, long SlowestMs)>();
async Task SampleAsync()
{
    var last = "";
    var nextMemory = TimeSpan.Zero;
    while (!stop.IsCancellationRequested)
    {
        try
        {
            var ready = await operatorClient.GetStringAsync("/healthz/ready");
            var state = ready.Contains("degraded", StringComparison.Ordinal) ? "degraded" : ready.Contains("shared in Redis", StringComparison.Ordinal) ? "shared in Redis" : ready;
            if (state != last)
            {
                readiness.Enqueue((clock.Elapsed.TotalSeconds, state));
                Note("readiness: limits " + state);
                last = state;
            }

            if (clock.Elapsed >= nextMemory)
            {
                nextMemory = clock.Elapsed + TimeSpan.FromSeconds(5);
                var page = await operatorClient.GetStringAsync("/metrics");
                memory.Add((clock.Elapsed.TotalSeconds, RssMb(gateway.Id), Sum(page, "dotnet_gc_last_collection_heap_size_bytes") / 1048576, Sum(page, "dotnet_gc_heap_total_allocated_bytes_total") / 1048576, Interlocked.Exchange(ref completed, 0), Interlocked.Exchange(ref slowestMs, 0)));
            }

            await Task.Delay(250, stop.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (HttpRequestException e)
        {
            Note("operator endpoint failed: " + e.Message);
        }
    }
}

traffic.Restart();
stop.CancelAfter(duration);
var workers = Enumerable.Range(0, concurrency).Select(i => Task.Run(() => WorkerAsync(i))).ToList();
var background = new[] { Task.Run(FaultLaneAsync), Task.Run(ChaosAsync), Task.Run(SampleAsync) };
await Task.WhenAll(workers.Concat(background));
Note("traffic stopped");

// Settle: give the gateway a moment to record the last responses, then read its counters past the exporter's cache.
await Task.Delay(TimeSpan.FromSeconds(2));
var final = await operatorClient.GetStringAsync("/metrics");
memory.Add((clock.Elapsed.TotalSeconds, RssMb(gateway.Id), Sum(final, "dotnet_gc_last_collection_heap_size_bytes") / 1048576, Sum(final, "dotnet_gc_heap_total_allocated_bytes_total") / 1048576, Interlocked.Exchange(ref completed, 0), Interlocked.Exchange(ref slowestMs, 0)));
string[] tokenTypeNames = ["input", "output", "reasoning", "cached"];
var tokenTypes = tokenTypeNames.ToDictionary(t => t, t => Sum(final, "gen_ai_client_token_usage_sum", $"gen_ai_token_type=\"{t}\""));
var upstreamByStatus = Lines(final, "mixproxy_upstream_responses_total")
    .GroupBy(l => Label(l, "http_response_status_code"))
    .ToDictionary(g => g.Key, g => g.Sum(Value));

gateway.Kill(entireProcessTree: true);
await gateway.WaitForExitAsync();
if (!redis.HasExited)
{
    redis.Kill();
}

await simulator.StopAsync();

// The report.
var report = new StringBuilder();
var total = outcomes.Values.Sum();
report.AppendLine(CultureInfo.InvariantCulture, $"## Soak: {duration.TotalSeconds:0} s, {concurrency} workers, seed {seed}, {total} requests ({total / duration.TotalSeconds:0} req/s)");
report.AppendLine();
report.AppendLine("### What each request got, by scenario and injected fault");
report.AppendLine();
report.AppendLine("| Injected | Scenario | Outcome | Count |");
report.AppendLine("| --- | --- | --- | ---: |");
foreach (var ((scenario, injected, outcome), count) in outcomes.OrderBy(o => o.Key.Injected == "-" ? 1 : 0).ThenBy(o => o.Key.Injected).ThenBy(o => o.Key.Scenario).ThenBy(o => o.Key.Outcome))
{
    report.AppendLine(CultureInfo.InvariantCulture, $"| {injected} | {scenario} | {outcome} | {count} |");
}

report.AppendLine();
report.AppendLine("### Outcomes of requests with no fault of their own, summed");
report.AppendLine();
foreach (var (outcome, count) in outcomes.Where(o => o.Key.Injected == "-").GroupBy(o => o.Key.Outcome).Select(g => (g.Key, g.Sum(o => o.Value))).OrderByDescending(g => g.Item2))
{
    report.AppendLine(CultureInfo.InvariantCulture, $"- {outcome}: {count}");
}

report.AppendLine();
report.AppendLine("### Token accounting");
report.AppendLine();
var gatewayTokens = tokenTypes["input"] + tokenTypes["output"];
report.AppendLine(CultureInfo.InvariantCulture, $"- Usage the simulator reported in its 200 responses: {tap.Tokens} tokens over {tap.ResponsesWithUsage} responses.");
report.AppendLine(CultureInfo.InvariantCulture, $"- The gateway's `gen_ai_client_token_usage` sums: input {tokenTypes["input"]:0}, output {tokenTypes["output"]:0} (input + output = {gatewayTokens:0}; difference to the simulator {gatewayTokens - tap.Tokens:+0;-0;0}); reasoning {tokenTypes["reasoning"]:0}, cached {tokenTypes["cached"]:0}.");
report.AppendLine(CultureInfo.InvariantCulture, $"- Usage the clients saw in complete answers: {clientTokens} tokens.");
report.AppendLine(CultureInfo.InvariantCulture, $"- Upstream responses the gateway counted, by status: {string.Join(", ", upstreamByStatus.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value:0}"))}.");
report.AppendLine();
report.AppendLine("### Gateway memory (and the traffic) over time");
report.AppendLine();
report.AppendLine("| t (s) | RSS (MB) | GC heap after last GC (MB) | allocated so far (MB) | worker requests since the last row | slowest of them (ms) |");
report.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
foreach (var (at, rss, heap, allocated, requests, slowest) in memory)
{
    report.AppendLine(CultureInfo.InvariantCulture, $"| {at:0} | {rss:0.0} | {heap:0.0} | {allocated:0} | {requests} | {slowest} |");
}

report.AppendLine();
report.AppendLine("### Timeline (chaos and readiness)");
report.AppendLine();
foreach (var line in events)
{
    report.AppendLine("- " + line);
}

report.AppendLine();
report.AppendLine("### Gateway log lines at warning and above, by event");
report.AppendLine();
foreach (var (line, count) in gatewayLog.Where(l => l.StartsWith("warn:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal))
    .GroupBy(l => l.Trim()).Select(g => (g.Key, g.Count())).OrderByDescending(g => g.Item2))
{
    report.AppendLine(CultureInfo.InvariantCulture, $"- {count} × `{line}`");
}

Console.WriteLine(report.ToString());
if (reportPath.Length > 0)
{
    File.WriteAllText(reportPath, report.ToString());
}

return 0;

static async Task WaitAsync(Func<Task<bool>> ready, TimeSpan limit, string what)
{
    var deadline = DateTime.UtcNow + limit;
    while (DateTime.UtcNow < deadline)
    {
        try
        {
            if (await ready())
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(100);
    }

    throw new TimeoutException($"{what} was not ready within {limit.TotalSeconds} s.");
}

static Task<bool> TcpOpen(int port)
{
    try
    {
        using var socket = new System.Net.Sockets.TcpClient();
        socket.Connect(System.Net.IPAddress.Loopback, port);
        return Task.FromResult(true);
    }
    catch (System.Net.Sockets.SocketException)
    {
        return Task.FromResult(false);
    }
}

static double RssMb(int pid) =>
    File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024).FirstOrDefault();

static IEnumerable<string> Lines(string page, string name) =>
    page.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal));

static double Value(string line) =>
    double.Parse((line.Contains('}', StringComparison.Ordinal) ? line[(line.LastIndexOf('}') + 1)..] : line[line.IndexOf(' ', StringComparison.Ordinal)..]).Trim().Split(' ')[0], CultureInfo.InvariantCulture);

static string Label(string line, string name)
{
    var start = line.IndexOf(name + "=\"", StringComparison.Ordinal);
    return start < 0 ? "?" : line[(start + name.Length + 2)..line.IndexOf('"', start + name.Length + 2)];
}

static double Sum(string page, string name, string? label = null) =>
    Lines(page, name).Where(l => label is null || l.Contains(label, StringComparison.Ordinal)).Sum(Value);

[System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
static extern int Signal(int pid, int signal);
