using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.Tests.Protocols;

/// <summary>
/// A mutation battery over every golden input: each JSON path of each client request, upstream reply and upstream
/// stream event gets values of every other type, edge numbers, deep and long values, or is removed (see
/// <see cref="JsonMutants"/>). Whatever arrives, a translator answers by the rules the host relies on:
/// <list type="bullet">
/// <item>a client request is translated (or rewritten: the upstream gets JSON), passed on as it came (passthroughs), or
/// refused with a <see cref="TranslationException"/> (a 400 naming the field: only a body that is not a JSON object at
/// all is refused without one);</item>
/// <item>a whole upstream reply is translated, passed on as it came (passthroughs), or refused with an
/// <see cref="UpstreamResponseException"/> (a 502);</item>
/// <item>an upstream error is restated, whatever its shape;</item>
/// <item>an upstream stream is translated to its end, at worst closed by an error event, with no translation fault
/// recorded (a fault is a gateway bug, logged as an error).</item>
/// </list>
/// Any other exception is a translator bug; the failure names the file, the path, the replacement and the exception.
/// </summary>
public sealed class HostileInputTests
{
    private const int FailuresShown = 20;

    private static readonly string[] Pairs = ["openai-chat-to-gemini", "gemini-to-openai-chat"];

    // :: The golden inputs ------------------------------------------------------------------------

    /// <summary>Every golden client request, by its file under <c>Golden/</c>.</summary>
    public static TheoryData<string> ClientRequests() => Files(stage: "request", "input.json", exchangeFile: "client-request.json", _ => true);

    /// <summary>Every golden whole upstream reply that succeeded (errors are <see cref="UpstreamErrors"/>).</summary>
    public static TheoryData<string> UpstreamReplies() =>
        Files(stage: "response", "input.json", exchangeFile: "upstream-reply.json", c => !c.Stream && c.UpstreamStatus is null or 200);

    /// <summary>Every golden upstream error body.</summary>
    public static TheoryData<string> UpstreamErrors() =>
        Files(stage: "error", "input.json", exchangeFile: "upstream-reply.json", c => c.UpstreamStatus is not (null or 200));

    /// <summary>Every golden upstream stream.</summary>
    public static TheoryData<string> UpstreamStreams() =>
        Files(stage: "stream", "input.sse", exchangeFile: "upstream-reply.sse", c => c.Stream && c.UpstreamStatus is null or 200);

    private static TheoryData<string> Files(string stage, string stageFile, string exchangeFile, Func<GoldenTests.RoundTrip, bool> exchangeCase)
    {
        var files = new TheoryData<string>();
        foreach (var pair in Pairs)
        {
            var kind = Path.Combine(pair, stage);
            if (Directory.Exists(Path.Combine(GoldenCase.Root, kind)))
            {
                foreach (var name in GoldenCase.Cases(kind).Select(row => row.Data))
                {
                    files.Add($"{pair}/{stage}/{name}/{stageFile}");
                }
            }
        }

        foreach (var name in GoldenCase.Cases(GoldenTests.ExchangeKind).Select(row => row.Data))
        {
            if (GoldenCase.Has(GoldenTests.ExchangeKind, name, exchangeFile) && exchangeCase(GoldenTests.RoundTrip.Read(name)))
            {
                files.Add($"{GoldenTests.ExchangeKind}/{name}/{exchangeFile}");
            }
        }

        return files;
    }

    /// <summary>Where a golden file sits in its exchange: the pair, the client request it answers, and the upstream's model.</summary>
    private sealed record Source(string Pair, string ClientRequest, bool Stream, bool Sse, bool IncludeUsage, ExchangeSettings Settings, string Text)
    {
        public ClientRequest Parse(string body) => ExchangeHarness.Parse(Pair, body, Stream, Sse);

        public ExchangeCall Begin() => ExchangeHarness.Begin(Pair, ClientRequest.Length == 0
            ? ExchangeHarness.MinimalRequest(Pair, Stream, IncludeUsage, Sse)
            : Parse(ClientRequest), Settings);

        public string ClientProtocol => ExchangeHarness.Pairs[Pair].Client.Protocol.Name;
    }

    private static Source SourceOf(string file)
    {
        var segments = file.Split('/');
        var text = File.ReadAllText(Path.Combine(GoldenCase.Root, file));
        if (segments[0] == GoldenTests.ExchangeKind)
        {
            var name = segments[1];
            var roundTrip = GoldenTests.RoundTrip.Read(name);
            return new Source(
                GoldenTests.Directions[roundTrip.Direction],
                GoldenCase.Read(GoldenTests.ExchangeKind, name, "client-request.json"),
                roundTrip.Stream,
                roundTrip.Sse,
                IncludeUsage: false,
                roundTrip.Settings,
                text);
        }

        var (pair, stage, caseName) = (segments[0], segments[1], segments[2]);
        var kind = Path.Combine(pair, stage);
        var options = GoldenTests.StageOptions(kind, caseName);
        return new Source(
            pair,
            ClientRequest: string.Empty,
            options["Stream"]?.GetValue<bool>() ?? stage == "stream",
            options["Sse"]?.GetValue<bool>() ?? true,
            options["IncludeUsage"]?.GetValue<bool>() ?? false,
            ExchangeHarness.Settings(GoldenTests.StageProfile(pair, kind, caseName)),
            text);
    }

    // :: The battery ------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(ClientRequests))]
    public void Begin_EveryMutantOfAGoldenClientRequest_TranslatesOrRefusesWithATranslationException(string file)
    {
        var source = SourceOf(file);
        var exchange = ExchangeHarness.ExchangeFor(source.Pair);
        var failures = new Failures(file);
        failures.RunAll(JsonMutants.Of(JsonNode.Parse(source.Text)!), mutant =>
        {
            // As the host does: parse once (a body that is no JSON object is refused here), recall signatures, begin.
            ClientRequest request;
            try
            {
                request = source.Parse(mutant.Json);
            }
            catch (TranslationException e) when (IsRefusal(e))
            {
                return;
            }

            _ = exchange.SignaturesToRecall(request);
            try
            {
                var call = ExchangeHarness.Begin(source.Pair, request, source.Settings);
                if (call.Request.Body is { } body)
                {
                    using var upstreamBody = JsonDocument.Parse(body);
                }
                else if (exchange.Translates)
                {
                    throw new RuleBroken("A translating exchange sent the client's body upstream untranslated.");
                }
            }
            catch (TranslationException e) when (IsRefusal(e) && (e.Param is not null || mutant.Path == "$"))
            {
                // A refusal found by validation: the host answers 400 naming e.Param.
            }
            catch (TranslationException e) when (e.Param is null)
            {
                // Only the body as a whole is refused without a param; a catch-all would be refused like this.
                throw new RuleBroken("Refused without naming the field (only a body that is no JSON object may be): " + e.Message, e);
            }
        });

        failures.AssertNone();
    }

    [Theory]
    [MemberData(nameof(UpstreamReplies))]
    public void TranslateResponse_EveryMutantOfAGoldenUpstreamReply_TranslatesOrRefusesAsABadUpstreamResponse(string file)
    {
        var source = SourceOf(file);
        var translates = ExchangeHarness.ExchangeFor(source.Pair).Translates;
        var failures = new Failures(file);
        failures.RunAll(JsonMutants.Of(JsonNode.Parse(source.Text)!), mutant =>
        {
            try
            {
                var output = new ArrayBufferWriter<byte>();
                if (source.Begin().TranslateResponse(Encoding.UTF8.GetBytes(mutant.Json), "application/json", output) is not null)
                {
                    using var clientBody = JsonDocument.Parse(output.WrittenMemory);
                }
                else if (translates)
                {
                    throw new RuleBroken("A translating exchange passed the upstream's body on untranslated.");
                }
            }
            catch (UpstreamResponseException e) when (!string.IsNullOrWhiteSpace(e.Message))
            {
                // The upstream's fault: the host answers 502 bad_upstream_response.
            }
        });

        failures.AssertNone();
    }

    [Theory]
    [MemberData(nameof(UpstreamErrors))]
    public void TranslateError_EveryMutantOfAGoldenUpstreamError_IsRestatedForTheClient(string file)
    {
        var source = SourceOf(file);
        var input = JsonNode.Parse(source.Text)!;

        // A stage case wraps the upstream's status and body; an exchange's reply is the body, its status in case.json.
        var isStage = !file.StartsWith(GoldenTests.ExchangeKind + "/", StringComparison.Ordinal);
        var status = isStage ? input["status"]!.GetValue<int>() : GoldenTests.RoundTrip.Read(file.Split('/')[1]).UpstreamStatus!.Value;
        if ((isStage ? input["body"] : input) is not { } body)
        {
            return; // a plain-text body (an HTML page): nothing to walk
        }

        var failures = new Failures(file);
        failures.RunAll(JsonMutants.Of(body), mutant =>
        {
            var restated = source.Begin().TranslateError(status, Encoding.UTF8.GetBytes(mutant.Json));
            using var clientBody = JsonDocument.Parse(restated.Body);
        });

        failures.AssertNone();
    }

    [Theory]
    [MemberData(nameof(UpstreamStreams))]
    public void TranslateStream_EveryMutantOfAGoldenUpstreamEvent_EndsCleanlyWithoutATranslationFault(string file)
    {
        var source = SourceOf(file);
        var sse = SseLines.Of(source.Text);

        // One event mutated at a time, the others as they were.
        var mutants = sse.JsonEvents.SelectMany(e => JsonMutants.Of(e.Json).Select(m => m with { Path = $"event on line {e.Line + 1}: {m.Path}", Json = sse.With(e.Line, m.Json) }));
        var failures = new Failures(file);
        failures.RunAll(mutants, mutant =>
        {
            var call = source.Begin();

            // The upstream is a MemoryStream: the translation completes synchronously, on this thread.
            string reply;
            try
            {
                reply = ExchangeHarness.TranslateStreamAsync(call, mutant.Json, TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            }
            catch (TruncatedStreamException) when (call.Outcome.Faulted && call.Outcome.TranslationFault is null)
            {
                // A mutant that takes away the answer's end before the client got a byte: the host answers 502.
                return;
            }

            if (call.Outcome.TranslationFault is { } fault)
            {
                throw new RuleBroken("The stream recorded a translation fault (a translator bug).", fault);
            }

            AssertWellFormed(reply, source, call.Outcome);
        });

        failures.AssertNone();
    }

    /// <summary>A refusal the host can pass on: it says what is wrong, and names the field when it names one.</summary>
    private static bool IsRefusal(TranslationException e) => !string.IsNullOrWhiteSpace(e.Message) && e.Param is null or { Length: > 0 };

    /// <summary>The client gets whole events (or one JSON array), and a stream closed by an error event counts as faulted.</summary>
    private static void AssertWellFormed(string reply, Source source, ExchangeOutcome outcome)
    {
        var events = source.ClientProtocol == "Gemini" && !source.Sse ? [reply] : GoldenCase.SseData(reply);
        foreach (var data in events.Where(d => d != "[DONE]"))
        {
            try
            {
                using var _ = JsonDocument.Parse(data);
            }
            catch (JsonException e)
            {
                throw new RuleBroken($"The client got a broken event (half written before an error event?): {Shorten(data)}", e);
            }
        }

        if (events.Count > 0 && events[^1].StartsWith("{\"error\"", StringComparison.Ordinal) && !outcome.Faulted)
        {
            throw new RuleBroken("The stream ended with an error event but is not marked faulted.");
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    /// <summary>A rule the battery found broken without the translator throwing (the cause, if any, is inside).</summary>
    private sealed class RuleBroken(string message, Exception? cause = null) : Exception(message, cause);

    // :: Helpers ----------------------------------------------------------------------------------

    /// <summary>An SSE text as lines, with the lines whose <c>data:</c> holds JSON, so one event at a time can be replaced.</summary>
    private sealed class SseLines
    {
        private readonly List<string> _lines;

        private SseLines(List<string> lines, List<(int Line, JsonNode Json)> jsonEvents)
        {
            _lines = lines;
            JsonEvents = jsonEvents;
        }

        public List<(int Line, JsonNode Json)> JsonEvents { get; }

        public static SseLines Of(string text)
        {
            // Lines keep their own endings (CRLF cases stay CRLF).
            var lines = new List<string>();
            var start = 0;
            for (var i = 0; i < text.Length; i++)
            {
                if (text[i] == '\n')
                {
                    lines.Add(text[start..(i + 1)]);
                    start = i + 1;
                }
            }

            if (start < text.Length)
            {
                lines.Add(text[start..]);
            }

            var events = new List<(int, JsonNode)>();
            for (var i = 0; i < lines.Count; i++)
            {
                if (lines[i].StartsWith("data:", StringComparison.Ordinal) && TryParse(lines[i][5..].Trim()) is { } json)
                {
                    events.Add((i, json));
                }
            }

            return new SseLines(lines, events);
        }

        public string With(int line, string data)
        {
            var ending = _lines[line].EndsWith("\r\n", StringComparison.Ordinal) ? "\r\n" : _lines[line].EndsWith('\n') ? "\n" : string.Empty;
            return string.Concat(_lines.Select((l, i) => i == line ? "data: " + data + ending : l));
        }

        private static JsonNode? TryParse(string data)
        {
            try
            {
                return JsonNode.Parse(data);
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Runs mutants (in parallel: the translators are stateless, each mutant has its own call) and keeps those that
    /// broke a rule, in document order; the assertion names the first few in full and how many ran.
    /// </summary>
    private sealed class Failures(string file)
    {
        private readonly ConcurrentBag<(int Order, string Report)> _failures = [];
        private int _count;

        public void RunAll(IEnumerable<Mutant> mutants, Action<Mutant> run)
        {
            var all = mutants.ToList();
            _count += all.Count;
            Parallel.For(0, all.Count, i =>
            {
                try
                {
                    run(all[i]);
                }
                catch (Exception e)
                {
                    _failures.Add((i, Report(all[i], e)));
                }
            });
        }

        public void AssertNone()
        {
            var failed = _failures.OrderBy(f => f.Order).Select(f => f.Report).ToList();
            TestContext.Current.TestOutputHelper?.WriteLine($"{file}: {_count} mutants, {failed.Count} failed.");
            Assert.True(
                failed.Count == 0,
                $"{failed.Count} of {_count} mutants of {file} broke the rules; the first {Math.Min(FailuresShown, failed.Count)}:\n\n" + string.Join("\n\n", failed.Take(FailuresShown)));
        }

        private string Report(Mutant mutant, Exception e)
        {
            var report = new StringBuilder($"{file} {mutant.Path} := {mutant.Replacement}");
            for (var (cause, by) = (e, string.Empty); cause is not null; (cause, by) = (cause.InnerException, "caused by "))
            {
                report.Append($"\n  {by}{cause.GetType().Name}: {cause.Message}");
                if (cause is not RuleBroken && TranslatorFrame(cause) is { } frame)
                {
                    report.Append($"\n    at {frame}");
                }
            }

            return report.ToString();
        }

        /// <summary>The translation library's method an exception came from (the frames above it are the JSON API's).</summary>
        private static string? TranslatorFrame(Exception e) =>
            new StackTrace(e).GetFrames()
                .Select(f => f.GetMethod())
                .Where(m => m?.DeclaringType?.Namespace is { } ns && ns.StartsWith("MixProxy.Translation", StringComparison.Ordinal)
                    && !ns.StartsWith("MixProxy.Translation.Tests", StringComparison.Ordinal))
                .Select(m => $"{m!.DeclaringType!.Name}.{m.Name}")
                .FirstOrDefault();
    }
}
