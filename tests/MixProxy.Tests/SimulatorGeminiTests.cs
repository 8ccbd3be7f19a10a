using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using MixProxy.Simulator;
using MixProxy.Tests.Infrastructure;

namespace MixProxy.Tests;

/// <summary>
/// The simulator as Gemini 3 and as any upstream asked for structured output, called directly: it signs the function
/// calls it makes, refuses a current turn that lost a signature as Google does, and answers a schema with an instance of it.
/// </summary>
public sealed class SimulatorGeminiTests : IAsyncDisposable
{
    private const string Gemini3 = "/v1beta/models/gemini-3.1-pro-preview:generateContent";
    private const string Tools = """[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"OBJECT","properties":{"query":{"type":"STRING"}}}}]}]""";

    // Google's documented bypass value, as the gateway sends it (the literal string, in the thoughtSignature field).
    private const string Bypass = "skip_thought_signature_validator";

    private readonly SimulatorState _state = new();
    private WebApplication? _app;
    private HttpClient? _client;

    private static string Call(string? signature) =>
        """{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{}}""" + (signature is null ? string.Empty : $",\"thoughtSignature\":\"{signature}\"") + "}]}";

    private static string Result(string output = "sunny") =>
        """{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":""" + JsonValue.Create(output).ToJsonString() + "}}}]}";

    private const string User = """{"role":"user","parts":[{"text":"Weather in Paris?"}]}""";

    [Fact]
    public async Task Gemini3_CurrentTurnStepWithoutSignature_IsRefusedInGooglesWords()
    {
        var (status, body, _) = await PostAsync(Gemini3, $$"""{"contents":[{{User}},{{Call(null)}},{{Result()}}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        HttpHelpers.AssertGoogleError(body, 400, "INVALID_ARGUMENT");
        Assert.Equal(
            "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:get_weather` , position 2. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
            body!["error"]!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("the bypass value on the step", """[{"role":"user","parts":[{"text":"Weather?"}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{}},"thoughtSignature":""" + "\"" + Bypass + "\"" + """}]},{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}}]}]""")]
    [InlineData("a parallel call after the signed first one", """[{"role":"user","parts":[{"text":"Paris and Rome?"}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{}},"thoughtSignature":"c2ln"},{"functionCall":{"name":"get_weather","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}},{"functionResponse":{"name":"get_weather","response":{"output":"rain"}}}]}]""")]
    [InlineData("an unsigned step in an earlier turn", """[{"role":"user","parts":[{"text":"Weather?"}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}}]},{"role":"model","parts":[{"text":"Sunny."}]},{"role":"user","parts":[{"text":"Thanks!"}]}]""")]
    public async Task Gemini3_SignaturesAsGoogleRequiresThem_AreAccepted(string what, string contents)
    {
        var (status, body, _) = await PostAsync(Gemini3, $$"""{"contents":{{contents}}}""");

        Assert.True(status == HttpStatusCode.OK, $"{what}: {body}");
    }

    [Fact]
    public async Task OlderGemini_UnsignedStep_IsAccepted()
    {
        var (status, _, _) = await PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", $$"""{"contents":[{{User}},{{Call(null)}},{{Result()}}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Gemini3_ToolsAndAUserQuestion_CallsTheFirstFunctionWithANewSignatureEachTime()
    {
        var request = $$"""{"contents":[{{User}}],"tools":{{Tools}}}""";

        var (_, first, _) = await PostAsync(Gemini3, request);
        var (_, second, _) = await PostAsync(Gemini3, request);

        var candidate = first!["candidates"]![0]!;
        Assert.Equal("STOP", candidate["finishReason"]!.GetValue<string>());
        var part = Assert.Single(candidate["content"]!["parts"]!.AsArray())!;
        Assert.Equal("get_weather", part["functionCall"]!["name"]!.GetValue<string>());
        Assert.Equal("weather in Paris", part["functionCall"]!["args"]!["query"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(part["functionCall"]!["id"]!.GetValue<string>()));
        var signatures = new[] { first, second }.Select(r => r!["candidates"]![0]!["content"]!["parts"]![0]!["thoughtSignature"]!.GetValue<string>()).ToList();
        Assert.Equal(signatures, _state.IssuedThoughtSignatures);
        Assert.NotEqual(signatures[0], signatures[1]);
        Assert.All(signatures, s => Convert.FromBase64String(s));
    }

    [Fact]
    public async Task Gemini3_StreamedFunctionCall_IsOneEventWithTheCallThenTheFinish()
    {
        var (status, _, response) = await PostAsync(Gemini3.Replace(":generateContent", ":streamGenerateContent?alt=sse", StringComparison.Ordinal), $$"""{"contents":[{{User}}],"tools":{{Tools}}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var events = (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))
            .Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => JsonNode.Parse(e["data: ".Length..])!["candidates"]![0]!)
            .ToList();
        Assert.Equal(2, events.Count);
        var part = Assert.Single(events[0]["content"]!["parts"]!.AsArray())!;
        Assert.Equal(Assert.Single(_state.IssuedThoughtSignatures), part["thoughtSignature"]!.GetValue<string>());
        Assert.Null(events[0]["finishReason"]);
        Assert.Equal("STOP", events[1]["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Gemini3_FunctionResultLast_IsAnsweredWithText()
    {
        var (status, body, _) = await PostAsync(Gemini3, $$"""{"contents":[{{User}},{{Call(Bypass)}},{{Result("21°C")}}],"tools":{{Tools}}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Hello from the MixProxy simulator. You said: tool result 21°C", body!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("responseSchema", """{"type":"OBJECT","properties":{"city":{"type":"STRING"},"temperature":{"type":"NUMBER","nullable":true},"days":{"type":"ARRAY","items":{"type":"INTEGER"}},"sky":{"type":"STRING","enum":["clear","cloudy"]}},"required":["city","temperature","days","sky"]}""", """{"city":"sim","temperature":1,"days":[1],"sky":"clear"}""")]
    [InlineData("responseJsonSchema", """{"type":"object","properties":{"city":{"type":"string"},"note":{"type":["null","string"]},"ok":{"type":"boolean"},"extra":{"type":"string"}},"required":["city","note","ok"]}""", """{"city":"sim","note":"sim","ok":true}""")]
    [InlineData("responseJsonSchema", """{"type":"object","properties":{"step":{"$ref":"#/$defs/Step"},"alt":{"anyOf":[{"type":"integer"},{"type":"null"}]}},"$defs":{"Step":{"type":"object","properties":{"n":{"type":"integer"}}}}}""", """{"step":{"n":1},"alt":1}""")]
    public async Task Gemini_JsonResponseWithASchema_IsAMinimalInstanceOfIt(string field, string schema, string expected)
    {
        var (_, body, _) = await PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", $$"""{"contents":[{{User}}],"generationConfig":{"responseMimeType":"application/json","{{field}}":{{schema}}} }""");

        Assert.Equal(expected, body!["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"w","strict":true,"schema":{"type":"object","properties":{"city":{"type":"string"},"n":{"type":"integer"}},"required":["city","n"],"additionalProperties":false}}}""", """{"city":"sim","n":1}""")]
    [InlineData("""{"type":"json_object"}""", "{}")]
    public async Task Chat_ResponseFormat_IsAnsweredWithJson(string format, string expected)
    {
        var (_, body, _) = await PostAsync("/v1/chat/completions", $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Weather?"}],"response_format":{{format}}}""");

        Assert.Equal(expected, body!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Responses_TextFormatJsonSchema_IsAnsweredWithAnInstance()
    {
        var (_, body, _) = await PostAsync("/v1/responses", """{"model":"gpt-5-mini","input":"Weather?","store":false,"text":{"format":{"type":"json_schema","name":"w","strict":true,"schema":{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","enum":["warm","dry"]}}},"required":["tags"],"additionalProperties":false}}}}""");

        Assert.Equal("""{"tags":["warm"]}""", body!["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
    }

    /// <summary>Google's countTokens takes the contents bare or a whole generateContentRequest (system, tools and all) to count.</summary>
    [Fact]
    public async Task CountTokens_AGenerateContentRequest_IsCountedLikeBareContents()
    {
        var (status, body, _) = await PostAsync("/v1beta/models/gemini-3.1-pro-preview:countTokens", """{"generateContentRequest":{"model":"models/gemini-3.1-pro-preview","contents":[""" + User + "]}}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body!["totalTokens"]!.GetValue<int>() > 0);
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> PostAsync(string path, string json)
    {
        if (_app is null)
        {
            _app = SimulatorApp.Build("http://127.0.0.1:0", new SimulatorOptions { ChunkInterval = TimeSpan.FromMilliseconds(1) }, _state);
            await _app.StartAsync(TestContext.Current.CancellationToken);
            _client = new HttpClient { BaseAddress = new Uri(SimulatorApp.Address(_app)), Timeout = TimeSpan.FromSeconds(30) };
        }

        return await _client!.PostJsonAsync(path, json);
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
