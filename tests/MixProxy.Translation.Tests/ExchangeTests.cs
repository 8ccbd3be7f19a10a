using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MixProxy.Translation.Chat;
using MixProxy.Translation.Errors;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Streaming;

namespace MixProxy.Translation.Tests;

/// <summary>
/// Whole exchanges, one folder each under <c>Golden/exchange</c>: what the client sent, the body the upstream must
/// receive, what the upstream answered, and what the client must get back. <c>case.json</c> says which way the
/// translation goes (<c>openai-client</c>: Chat Completions client, Gemini upstream; <c>gemini-client</c>: the
/// reverse), whether it streams, the model's capabilities, and which edge cases of the translation research's
/// test matrix (§10, numbered 1–15) the case covers. A refused request has <c>client-error.json</c> instead of the
/// upstream files; an upstream error has <c>upstreamStatus</c> in <c>case.json</c>.
/// </summary>
public sealed class ExchangeTests
{
    private const string Kind = "exchange";
    private const long Created = 1_700_000_000;
    private const string GeminiClientModel = "gemini-3.1-pro-preview";

    private static readonly JsonSerializerOptions ProfileJson = new() { PropertyNameCaseInsensitive = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    /// <summary>
    /// Where each matrix item applies: the (direction, streaming) pairs that must each have at least one case.
    /// Items about requests only (schemas, reasoning effort, message shaping, media, parameters) need no stream
    /// case of their own, since a stream's request is translated by the same code; item 13 is the reverse path itself.
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

    public static TheoryData<string> Cases => GoldenCase.Cases(Kind);

    [Fact]
    public void Matrix_EveryEdgeCase_HasAnExchangeInEachDirectionAndModeItAppliesTo()
    {
        var covered = GoldenCase.Cases(Kind)
            .Select(name => Case.Read(name))
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
    [MemberData(nameof(Cases))]
    public async Task Exchange_GoldenCase_UpstreamRequestAndClientReplyMatch(string name)
    {
        var c = Case.Read(name);
        using var clientRequest = JsonDocument.Parse(GoldenCase.Read(Kind, name, "client-request.json"));
        if (c.Direction == "openai-client")
        {
            await OpenAIClientAsync(name, c, clientRequest.RootElement);
        }
        else
        {
            Assert.Equal("gemini-client", c.Direction);
            await GeminiClientAsync(name, c, clientRequest.RootElement);
        }
    }

    private static async Task OpenAIClientAsync(string name, Case c, JsonElement request)
    {
        var facts = ChatRequestFacts.Read(request);
        Assert.Equal(c.Stream, facts.Stream);
        var profile = c.Profile ?? new UpstreamModelProfile { UpstreamModel = facts.Model, Thinking = ThinkingStyle.Level, SupportsPartMediaResolution = true, RequiresThoughtSignatures = true, SupportsSearchWithFunctions = true };
        var upstreamRequest = new ArrayBufferWriter<byte>();
        if (RefusedAsExpected(name, () => ChatToGeminiRequestTranslator.Translate(request, profile, upstreamRequest)))
        {
            return;
        }

        var requestFacts = ChatToGeminiRequestTranslator.Translate(request, profile, upstreamRequest);
        GoldenCase.RequireExpected(Kind, name, "upstream-request.json", Pretty(upstreamRequest.WrittenSpan));
        GoldenCase.AssertJsonMatches(GoldenCase.ReadJson(Kind, name, "upstream-request.json"), JsonNode.Parse(upstreamRequest.WrittenSpan), "upstream-request");

        if (c.UpstreamStatus is { } status and not 200)
        {
            var error = GeminiErrorTranslator.ToOpenAI(status, Encoding.UTF8.GetBytes(GoldenCase.Read(Kind, name, "upstream-reply.json")));
            AssertErrorReply(name, error.StatusCode, error.Body, error.RetryAfter);
            return;
        }

        var context = new ResponseContext { ClientModel = facts.Model, Created = Created, IncludeUsage = facts.IncludeUsage, SearchGrounding = requestFacts.GoogleSearch };
        if (c.Stream)
        {
            var actual = await TranslateStreamAsync(name, new GeminiToChatStreamTranslator(context, new UsageSink()));
            GoldenCase.RequireExpected(Kind, name, "client-reply.sse", actual);
            AssertSameEvents(GoldenCase.SseData(GoldenCase.Read(Kind, name, "client-reply.sse")), GoldenCase.SseData(actual));
            // [DONE] exactly once, last; a stream cut short by an error event ends with the error instead.
            var events = GoldenCase.SseData(actual);
            Assert.Equal(events[^1].StartsWith("{\"error\"", StringComparison.Ordinal) ? 0 : 1, events.Count(e => e == "[DONE]"));
            return;
        }

        var reply = new ArrayBufferWriter<byte>();
        GeminiToChatResponseTranslator.Translate(Encoding.UTF8.GetBytes(GoldenCase.Read(Kind, name, "upstream-reply.json")), context, reply);
        GoldenCase.RequireExpected(Kind, name, "client-reply.json", Pretty(reply.WrittenSpan));
        GoldenCase.AssertJsonMatches(GoldenCase.ReadJson(Kind, name, "client-reply.json"), JsonNode.Parse(reply.WrittenSpan), "client-reply");
    }

    private static async Task GeminiClientAsync(string name, Case c, JsonElement request)
    {
        var profile = c.Profile ?? new UpstreamModelProfile { UpstreamModel = "gpt-x", Thinking = ThinkingStyle.Level };
        var upstreamRequest = new ArrayBufferWriter<byte>();
        if (RefusedAsExpected(name, () => GeminiToChatRequestTranslator.Translate(request, profile, c.Stream, upstreamRequest)))
        {
            return;
        }

        GeminiToChatRequestTranslator.Translate(request, profile, c.Stream, upstreamRequest);
        GoldenCase.RequireExpected(Kind, name, "upstream-request.json", Pretty(upstreamRequest.WrittenSpan));
        GoldenCase.AssertJsonMatches(GoldenCase.ReadJson(Kind, name, "upstream-request.json"), JsonNode.Parse(upstreamRequest.WrittenSpan), "upstream-request");

        if (c.UpstreamStatus is { } status and not 200)
        {
            var body = Encoding.UTF8.GetBytes(GoldenCase.Read(Kind, name, "upstream-reply.json"));
            AssertErrorReply(name, ChatToGeminiResponseTranslator.ErrorStatus(status), ChatToGeminiResponseTranslator.TranslateError(status, body), retryAfter: null);
            return;
        }

        var context = new ResponseContext { ClientModel = GeminiClientModel, Created = Created };
        if (c.Stream)
        {
            var actual = await TranslateStreamAsync(name, new ChatToGeminiStreamTranslator(context, c.Sse));
            GoldenCase.RequireExpected(Kind, name, c.Sse ? "client-reply.sse" : "client-reply.json", c.Sse ? actual : Pretty(Encoding.UTF8.GetBytes(actual)));
            if (c.Sse)
            {
                AssertSameEvents(GoldenCase.SseData(GoldenCase.Read(Kind, name, "client-reply.sse")), GoldenCase.SseData(actual));
                Assert.DoesNotContain("[DONE]", actual, StringComparison.Ordinal);
            }
            else
            {
                // Without alt=sse Gemini streams one JSON array, written element by element.
                GoldenCase.AssertJsonMatches(GoldenCase.ReadJson(Kind, name, "client-reply.json"), JsonNode.Parse(actual), "client-reply");
            }

            return;
        }

        var reply = new ArrayBufferWriter<byte>();
        ChatToGeminiResponseTranslator.Translate(Encoding.UTF8.GetBytes(GoldenCase.Read(Kind, name, "upstream-reply.json")), context, reply);
        GoldenCase.RequireExpected(Kind, name, "client-reply.json", Pretty(reply.WrittenSpan));
        GoldenCase.AssertJsonMatches(GoldenCase.ReadJson(Kind, name, "client-reply.json"), JsonNode.Parse(reply.WrittenSpan), "client-reply");
    }

    /// <summary>True when the case expects the request to be refused, after checking it is, with that param and message.</summary>
    private static bool RefusedAsExpected(string name, Action translate)
    {
        if (!GoldenCase.Has(Kind, name, "client-error.json"))
        {
            return false;
        }

        var expected = GoldenCase.ReadJson(Kind, name, "client-error.json");
        var error = Assert.Throws<TranslationException>(translate);
        Assert.Equal(expected["param"]?.GetValue<string>(), error.Param);
        Assert.Contains(expected["message"]!.GetValue<string>(), error.Message, StringComparison.Ordinal);
        Assert.False(GoldenCase.Has(Kind, name, "upstream-request.json"), "A refused request reaches no upstream.");
        return true;
    }

    private static void AssertErrorReply(string name, int status, byte[] body, TimeSpan? retryAfter)
    {
        var draft = new JsonObject { ["status"] = status, ["body"] = JsonNode.Parse(body) };
        if (retryAfter is { } after)
        {
            draft["retryAfterSeconds"] = (int)after.TotalSeconds;
        }

        GoldenCase.RequireExpected(Kind, name, "client-reply.json", draft.ToJsonString(Indented));
        var expected = GoldenCase.ReadJson(Kind, name, "client-reply.json");
        Assert.Equal(expected["status"]!.GetValue<int>(), status);
        GoldenCase.AssertJsonMatches(expected["body"], JsonNode.Parse(body), "client-reply.body");
        Assert.Equal(expected["retryAfterSeconds"]?.GetValue<int>(), retryAfter is { } r ? (int)r.TotalSeconds : null);
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Pretty(ReadOnlySpan<byte> json) => JsonNode.Parse(json)!.ToJsonString(Indented);

    private static async Task<string> TranslateStreamAsync(string name, IStreamEventTranslator translator)
    {
        using var upstream = new MemoryStream(Encoding.UTF8.GetBytes(GoldenCase.Read(Kind, name, "upstream-reply.sse")));
        await using var translated = new TranslatingSseStream(upstream, translator, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(translated, Encoding.UTF8);
        return await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
    }

    private static void AssertSameEvents(List<string> expected, List<string> actual)
    {
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
    }

    private sealed record Case(int[] Matrix, string Direction, bool Stream, bool Sse, int? UpstreamStatus, UpstreamModelProfile? Profile)
    {
        public static Case Read(string name)
        {
            var json = GoldenCase.ReadJson(Kind, name, "case.json");
            return new Case(
                json["matrix"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray(),
                json["direction"]!.GetValue<string>(),
                json["stream"]?.GetValue<bool>() ?? false,
                json["sse"]?.GetValue<bool>() ?? true,
                json["upstreamStatus"]?.GetValue<int>(),
                json["profile"] is { } p ? p.Deserialize<UpstreamModelProfile>(ProfileJson) : null);
        }
    }
}
