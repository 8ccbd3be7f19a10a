using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests;

/// <summary>
/// Every golden case, through the exchanges of the shipped registry, with one runner for all pairs. Stage cases live in
/// <c>Golden/&lt;pair&gt;/&lt;stage&gt;/&lt;case&gt;</c> (request, response, stream, error: one side of an exchange each);
/// whole round trips in <c>Golden/exchange/&lt;case&gt;</c>, whose <c>case.json</c> names the direction. See Golden/README.md.
/// </summary>
public sealed class GoldenTests
{
    private static readonly JsonSerializerOptions ProfileJson = new() { PropertyNameCaseInsensitive = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The model a stage case's upstream serves when the case brings no <c>profile.json</c>.</summary>
    internal static UpstreamModelProfile DefaultProfile(string pair) => pair is "gemini-to-openai-chat" or "openai-responses-to-openai-chat" or "openai-responses-passthrough" or "anthropic-messages-to-openai-chat" or "anthropic-messages-passthrough"
        ? new UpstreamModelProfile { UpstreamModel = "gpt-x", Thinking = ThinkingStyle.Level }
        : new UpstreamModelProfile { UpstreamModel = ExchangeHarness.GeminiClientModel, Thinking = ThinkingStyle.Level, ThinkingLevels = ["low", "high"], SupportsSearchWithFunctions = true };

    private static readonly string[] Stages = ["request", "response", "stream", "error"];

    /// <summary>The model a stage case's upstream serves: its <c>profile.json</c>, else the pair's default.</summary>
    internal static UpstreamModelProfile StageProfile(string pair, string kind, string name) =>
        GoldenCase.Has(kind, name, "profile.json")
            ? JsonSerializer.Deserialize<UpstreamModelProfile>(GoldenCase.Read(kind, name, "profile.json"), ProfileJson)!
            : DefaultProfile(pair);

    /// <summary>A stage case's <c>options.json</c>, or an empty object.</summary>
    internal static JsonNode StageOptions(string kind, string name) =>
        GoldenCase.Has(kind, name, "options.json") ? GoldenCase.ReadJson(kind, name, "options.json") : new JsonObject();

    public static TheoryData<string, string, string> StageCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var pair in ExchangeHarness.Pairs.Keys.Order(StringComparer.Ordinal))
        {
            foreach (var stage in Stages)
            {
                if (Directory.Exists(Path.Combine(GoldenCase.Root, pair, stage)))
                {
                    foreach (var name in GoldenCase.Cases(Path.Combine(pair, stage)))
                    {
                        data.Add(pair, stage, name);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(StageCases))]
    public async Task Stage_GoldenCase_MatchesExpected(string pair, string stage, string name)
    {
        var kind = Path.Combine(pair, stage);
        var options = StageOptions(kind, name);
        var stream = options["Stream"]?.GetValue<bool>() ?? stage == "stream";
        var sse = options["Sse"]?.GetValue<bool>() ?? true;
        var countTokens = options["CountTokens"]?.GetValue<bool>() ?? false;
        var profile = StageProfile(pair, kind, name);

        switch (stage)
        {
            case "request":
                var request = ExchangeHarness.Parse(pair, GoldenCase.Read(kind, name, "input.json"), stream, sse, countTokens);
                if (GoldenCase.Has(kind, name, "expected-error.json"))
                {
                    var expected = GoldenCase.ReadJson(kind, name, "expected-error.json");
                    var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(pair, request, profile));
                    Assert.Equal(expected["param"]?.GetValue<string>(), error.Param);
                    Assert.Contains(expected["message"]!.GetValue<string>(), error.Message, StringComparison.Ordinal);
                    return;
                }

                var call = ExchangeHarness.Begin(pair, request, profile);
                GoldenCase.RequireExpected(kind, name, "expected.json", Pretty(call.Request.Body!.Value.Span));
                GoldenCase.AssertJsonMatches(GoldenCase.ReadJson(kind, name, "expected.json"), JsonNode.Parse(call.Request.Body!.Value.Span));
                return;
            case "response":
                var whole = ExchangeHarness.Begin(pair, ExchangeHarness.MinimalRequest(pair, stream: false), profile);
                var reply = ExchangeHarness.TranslateResponse(whole, GoldenCase.Read(kind, name, "input.json"));
                GoldenCase.RequireExpected(kind, name, "expected.json", Pretty(reply));
                GoldenCase.AssertJsonMatches(GoldenCase.ReadJson(kind, name, "expected.json"), JsonNode.Parse(reply));
                return;
            case "stream":
                var includeUsage = options["IncludeUsage"]?.GetValue<bool>() ?? false;
                var streamed = ExchangeHarness.Begin(pair, ExchangeHarness.MinimalRequest(pair, stream: true, includeUsage, sse), profile);
                var actual = await ExchangeHarness.TranslateStreamAsync(streamed, GoldenCase.Read(kind, name, "input.sse"), TestContext.Current.CancellationToken);
                GoldenCase.RequireExpected(kind, name, "expected.sse", actual);
                AssertSameStream(GoldenCase.Read(kind, name, "expected.sse"), actual, ExchangeHarness.Pairs[pair].Client.Protocol.Name, sse);
                return;
            default:
                var input = GoldenCase.ReadJson(kind, name, "input.json");
                var body = input["body"] is { } json ? json.ToJsonString() : input["text"]!.GetValue<string>();
                var failing = ExchangeHarness.Begin(pair, ExchangeHarness.MinimalRequest(pair, stream: false), profile);
                Assert.True(failing.RestatesErrors);
                var translated = failing.TranslateError(input["status"]!.GetValue<int>(), Encoding.UTF8.GetBytes(body));
                GoldenCase.RequireExpected(kind, name, "expected.json", ErrorDraft(translated));
                AssertErrorReply(GoldenCase.ReadJson(kind, name, "expected.json"), translated);
                return;
        }
    }

    // :: Whole round trips ------------------------------------------------------------------------

    internal const string ExchangeKind = "exchange";

    /// <summary>The pair each round trip's <c>direction</c> names.</summary>
    internal static readonly IReadOnlyDictionary<string, string> Directions = new Dictionary<string, string>
    {
        ["openai-client"] = "openai-chat-to-gemini",
        ["gemini-client"] = "gemini-to-openai-chat",
        ["openai-passthrough"] = "openai-chat-passthrough",
        ["gemini-passthrough"] = "gemini-passthrough",
        ["responses-client"] = "openai-responses-to-gemini",
        ["responses-chat-client"] = "openai-responses-to-openai-chat",
        ["responses-passthrough"] = "openai-responses-passthrough",
        ["anthropic-client"] = "anthropic-messages-to-gemini",
        ["anthropic-chat-client"] = "anthropic-messages-to-openai-chat",
        ["anthropic-passthrough"] = "anthropic-messages-passthrough",
    };

    /// <summary>
    /// Where each edge case of the translation research's test matrix (§10, numbered 1–15) applies: the (direction,
    /// streaming) pairs that must each have at least one round trip. Items about requests only (schemas, reasoning
    /// effort, message shaping, media, parameters) need no stream case of their own, since a stream's request is
    /// translated by the same code; item 13 is the reverse path itself.
    /// </summary>
    private static readonly Dictionary<int, (string Direction, bool Stream)[]> Required = new()
    {
        [1] = [("openai-client", true), ("openai-client", false), ("gemini-client", true), ("gemini-client", false)],
        [2] = [("openai-client", true), ("openai-client", false), ("gemini-client", false)],
        [3] = [("openai-client", false), ("gemini-client", false)],
        [4] = [("openai-client", false), ("gemini-client", false)],
        [5] = [("openai-client", true), ("openai-client", false), ("gemini-client", true), ("gemini-client", false)],
        [6] = [("openai-client", true), ("openai-client", false), ("gemini-client", true), ("gemini-client", false)],
        [7] = [("openai-client", true), ("openai-client", false), ("gemini-client", false)],
        [8] = [("openai-client", true), ("gemini-client", true)],
        [9] = [("openai-client", false), ("gemini-client", false)],
        [10] = [("openai-client", false), ("gemini-client", false)],
        [11] = [("openai-client", true), ("openai-client", false), ("gemini-client", true), ("gemini-client", false)],
        [12] = [("openai-client", true), ("openai-client", false), ("gemini-client", false)],
        [13] = [("gemini-client", true), ("gemini-client", false)],
        [14] = [("openai-client", true), ("openai-client", false), ("gemini-client", false)],
        [15] = [("openai-client", true), ("openai-client", false), ("gemini-client", false)],
    };

    public static TheoryData<string> ExchangeCases => GoldenCase.Cases(ExchangeKind);

    [Fact]
    public void Matrix_EveryEdgeCase_HasAnExchangeInEachDirectionAndModeItAppliesTo()
    {
        var covered = GoldenCase.Cases(ExchangeKind)
            .Select(name => RoundTrip.Read(name))
            .SelectMany(c => c.Matrix.Select(item => (item, c.Direction, c.Stream)))
            .ToHashSet();

        var missing = Required
            .SelectMany(r => r.Value.Select(need => (Item: r.Key, need.Direction, need.Stream)))
            .Where(need => !covered.Contains((need.Item, need.Direction, need.Stream)))
            .Select(need => $"§10.{need.Item} {need.Direction} {(need.Stream ? "stream" : "whole")}")
            .ToList();

        Assert.True(missing.Count == 0, "No exchange case for: " + string.Join("; ", missing));
    }

    [Theory]
    [MemberData(nameof(ExchangeCases))]
    public async Task Exchange_GoldenCase_UpstreamRequestAndClientReplyMatch(string name)
    {
        var c = RoundTrip.Read(name);
        var pair = Directions[c.Direction];
        var request = ExchangeHarness.Parse(pair, GoldenCase.Read(ExchangeKind, name, "client-request.json"), c.Stream, c.Sse);
        Assert.Equal(c.Stream, request.Stream);

        if (GoldenCase.Has(ExchangeKind, name, "client-error.json"))
        {
            var expected = GoldenCase.ReadJson(ExchangeKind, name, "client-error.json");
            var error = Assert.Throws<TranslationException>(() => ExchangeHarness.Begin(pair, request, c.Settings));
            Assert.Equal(expected["param"]?.GetValue<string>(), error.Param);
            Assert.Contains(expected["message"]!.GetValue<string>(), error.Message, StringComparison.Ordinal);
            Assert.False(GoldenCase.Has(ExchangeKind, name, "upstream-request.json"), "A refused request reaches no upstream.");
            return;
        }

        var call = ExchangeHarness.Begin(pair, request, c.Settings);
        var upstreamRequest = ExchangeHarness.UpstreamBody(call, request);
        GoldenCase.RequireExpected(ExchangeKind, name, "upstream-request.json", Pretty(upstreamRequest.Span));
        GoldenCase.AssertJsonMatches(GoldenCase.ReadJson(ExchangeKind, name, "upstream-request.json"), JsonNode.Parse(upstreamRequest.Span), "upstream-request");

        if (c.UpstreamStatus is { } status and not 200)
        {
            var draft = call.TranslateError(status, Encoding.UTF8.GetBytes(GoldenCase.Read(ExchangeKind, name, "upstream-reply.json")));
            GoldenCase.RequireExpected(ExchangeKind, name, "client-reply.json", ErrorDraft(draft));
            AssertErrorReply(GoldenCase.ReadJson(ExchangeKind, name, "client-reply.json"), draft);
            return;
        }

        if (c.Stream)
        {
            var actual = await ExchangeHarness.TranslateStreamAsync(call, GoldenCase.Read(ExchangeKind, name, "upstream-reply.sse"), TestContext.Current.CancellationToken);
            var file = c.Sse ? "client-reply.sse" : "client-reply.json";
            GoldenCase.RequireExpected(ExchangeKind, name, file, c.Sse ? actual : Pretty(Encoding.UTF8.GetBytes(actual)));
            AssertSameStream(GoldenCase.Read(ExchangeKind, name, file), actual, request.Endpoint.Api.Protocol.Name, c.Sse);
            return;
        }

        var reply = ExchangeHarness.TranslateResponse(call, GoldenCase.Read(ExchangeKind, name, "upstream-reply.json"));
        GoldenCase.RequireExpected(ExchangeKind, name, "client-reply.json", Pretty(reply));
        GoldenCase.AssertJsonMatches(GoldenCase.ReadJson(ExchangeKind, name, "client-reply.json"), JsonNode.Parse(reply), "client-reply");
    }

    // :: Shared assertions ------------------------------------------------------------------------

    /// <summary>
    /// Compares a client stream event by event. OpenAI streams end with [DONE] exactly once, last (a stream cut short
    /// by an error event ends with the error instead) and keep one chunk id throughout; Gemini streams have no
    /// terminator, and without <c>alt=sse</c> are one JSON array.
    /// </summary>
    private static void AssertSameStream(string expectedText, string actualText, string clientProtocol, bool sse)
    {
        if (clientProtocol == "Gemini" && !sse)
        {
            var expectedItems = JsonNode.Parse(expectedText)!.AsArray();
            var actualItems = JsonNode.Parse(actualText)!.AsArray();
            Assert.Equal(expectedItems.Count, actualItems.Count);
            GoldenCase.AssertJsonMatches(expectedItems, actualItems, "client-reply");
            return;
        }

        var expected = GoldenCase.SseData(expectedText);
        var actual = GoldenCase.SseData(actualText);
        Assert.True(expected.Count == actual.Count, $"expected {expected.Count} events, got {actual.Count}:\n{string.Join("\n", actual)}");
        for (var i = 0; i < expected.Count; i++)
        {
            if (expected[i] == "[DONE]")
            {
                Assert.Equal("[DONE]", actual[i]);
                continue;
            }

            GoldenCase.AssertJsonMatches(JsonNode.Parse(expected[i]), JsonNode.Parse(actual[i]), $"event[{i}]");
        }

        if (clientProtocol == "Gemini")
        {
            Assert.DoesNotContain("[DONE]", actualText, StringComparison.Ordinal);
            return;
        }

        if (clientProtocol == "OpenAIResponses")
        {
            AssertResponsesEventFraming(actualText);
            return;
        }

        if (clientProtocol == "Anthropic")
        {
            AssertAnthropicEventFraming(actualText);
            return;
        }

        var endsWithError = actual.Count > 0 && actual[^1].StartsWith("{\"error\"", StringComparison.Ordinal);
        Assert.Equal(endsWithError ? 0 : 1, actual.Count(e => e == "[DONE]"));
        Assert.True(!actual.Contains("[DONE]") || actual[^1] == "[DONE]");
        Assert.True(actual.Where(e => e != "[DONE]").Select(e => JsonNode.Parse(e)!["id"]?.GetValue<string>()).Where(id => id is not null).Distinct().Count() <= 1, "chunk ids change within one stream");
    }

    /// <summary>
    /// A Responses stream names every event twice (its <c>event:</c> line and its <c>type</c>), numbers them from 0 with
    /// no gap, has no <c>[DONE]</c>, and ends with exactly one terminal event carrying the whole response.
    /// </summary>
    private static void AssertResponsesEventFraming(string actualText)
    {
        Assert.DoesNotContain("[DONE]", actualText, StringComparison.Ordinal);
        var events = actualText.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < events.Length; i++)
        {
            var lines = events[i].Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!;
            Assert.Equal(lines[0]["event: ".Length..], data["type"]!.GetValue<string>());
            Assert.Equal(i, data["sequence_number"]!.GetValue<int>());
        }

        var terminal = events.Count(e => e.StartsWith("event: response.completed", StringComparison.Ordinal) || e.StartsWith("event: response.incomplete", StringComparison.Ordinal) || e.StartsWith("event: response.failed", StringComparison.Ordinal));
        Assert.Equal(1, terminal);
        Assert.True(events[^1].StartsWith("event: response.completed", StringComparison.Ordinal) || events[^1].StartsWith("event: response.incomplete", StringComparison.Ordinal) || events[^1].StartsWith("event: response.failed", StringComparison.Ordinal), "the terminal event is last");
    }

    /// <summary>
    /// An Anthropic stream names every event twice (its <c>event:</c> line and its <c>type</c>), has no <c>[DONE]</c>,
    /// opens with <c>message_start</c>, opens and closes content blocks in order with no two open at once, and ends with
    /// <c>message_stop</c> after one <c>message_delta</c>, or with an <c>error</c> event.
    /// </summary>
    private static void AssertAnthropicEventFraming(string actualText)
    {
        Assert.DoesNotContain("[DONE]", actualText, StringComparison.Ordinal);
        var events = actualText.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var types = new List<string>();
        int? open = null;
        var next = 0;
        foreach (var e in events)
        {
            var lines = e.Split('\n');
            Assert.Equal(2, lines.Length);
            Assert.StartsWith("event: ", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("data: ", lines[1], StringComparison.Ordinal);
            var data = JsonNode.Parse(lines[1]["data: ".Length..])!;
            var type = data["type"]!.GetValue<string>();
            Assert.Equal(lines[0]["event: ".Length..], type);
            types.Add(type);
            switch (type)
            {
                case "content_block_start":
                    Assert.Null(open);
                    Assert.Equal(next, data["index"]!.GetValue<int>());
                    open = next++;
                    break;
                case "content_block_delta":
                    Assert.Equal(open, data["index"]!.GetValue<int>());
                    break;
                case "content_block_stop":
                    Assert.Equal(open, data["index"]!.GetValue<int>());
                    open = null;
                    break;
            }
        }

        if (types[^1] == "error")
        {
            Assert.DoesNotContain("message_stop", types);
            return;
        }

        Assert.Equal("message_start", types[0]);
        Assert.Null(open);
        Assert.Equal("message_stop", types[^1]);
        Assert.Equal("message_delta", types[^2]);
        Assert.Equal(1, types.Count(t => t == "message_delta"));
    }

    private static void AssertErrorReply(JsonNode expected, TranslatedError actual)
    {
        Assert.Equal(expected["status"]!.GetValue<int>(), actual.StatusCode);
        GoldenCase.AssertJsonMatches(expected["body"], JsonNode.Parse(actual.Body), "client-reply.body");
        Assert.Equal(expected["retryAfterSeconds"]?.GetValue<int>(), actual.RetryAfter is { } r ? (int)r.TotalSeconds : null);
    }

    private static string ErrorDraft(TranslatedError error)
    {
        var draft = new JsonObject { ["status"] = error.StatusCode, ["body"] = JsonNode.Parse(error.Body) };
        if (error.RetryAfter is { } after)
        {
            draft["retryAfterSeconds"] = (int)after.TotalSeconds;
        }

        return draft.ToJsonString(Indented);
    }

    private static string Pretty(ReadOnlySpan<byte> json) => JsonNode.Parse(json)!.ToJsonString(Indented);

    /// <summary>
    /// What a round trip's <c>case.json</c> says: the matrix items it covers, its direction, mode and upstream, and the
    /// host's settings where they differ from the defaults (<c>settings</c>: <c>ReplaySignatures</c>, the
    /// <c>KnownSignatures</c> the host recalled, by tool-call id, and the cluster's <c>Dialect</c>).
    /// </summary>
    internal sealed record RoundTrip(int[] Matrix, string Direction, bool Stream, bool Sse, int? UpstreamStatus, UpstreamModelProfile Profile, ExchangeSettings Settings)
    {
        public static RoundTrip Read(string name)
        {
            var json = GoldenCase.ReadJson(ExchangeKind, name, "case.json");
            var profile = json["profile"]!.Deserialize<UpstreamModelProfile>(ProfileJson)!;
            return new RoundTrip(
                json["matrix"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray(),
                json["direction"]!.GetValue<string>(),
                json["stream"]?.GetValue<bool>() ?? false,
                json["sse"]?.GetValue<bool>() ?? true,
                json["upstreamStatus"]?.GetValue<int>(),
                profile,
                SettingsOf(json["settings"], profile));
        }

        private static ExchangeSettings SettingsOf(JsonNode? settings, UpstreamModelProfile profile)
        {
            var defaults = ExchangeHarness.Settings(profile);
            if (settings is null)
            {
                return defaults;
            }

            ThoughtSignatureBag? known = null;
            foreach (var (id, signature) in settings["KnownSignatures"]?.AsObject() ?? [])
            {
                (known ??= new ThoughtSignatureBag()).Add(id, signature!.GetValue<string>());
            }

            return defaults with
            {
                ReplaySignatures = settings["ReplaySignatures"]?.GetValue<bool>() ?? defaults.ReplaySignatures,
                KnownSignatures = known,
                Dialect = settings["Dialect"] is { } dialect ? Enum.Parse<UpstreamDialect>(dialect.GetValue<string>()) : defaults.Dialect,
            };
        }
    }
}
