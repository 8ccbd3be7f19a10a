using System.Text.Json.Nodes;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Tests.Protocols;

namespace MixProxy.Translation.Tests.GeminiToOpenAIChat;

/// <summary>
/// Every field of a Gemini request on its way to a Chat Completions upstream is mapped, dropped and reported, or
/// refused; none is skipped without a word. A field Gemini does not define is refused as Google refuses it, so a
/// misspelt setting is an error, not a silently different answer.
/// </summary>
public sealed class GeminiRequestInventoryTests
{
    private const string Pair = "gemini-to-openai-chat";
    private static readonly UpstreamModelProfile Chat = new() { UpstreamModel = "gpt-x" };

    private static ExchangeCall Begin(string body, UpstreamModelProfile? profile = null) =>
        ExchangeHarness.Begin(Pair, ExchangeHarness.Parse(Pair, body), profile ?? Chat);

    private static string WithRequest(string fields) => $$"""{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],{{fields}}}""";

    [Theory]
    [InlineData("\"modelArmorConfig\":{}", "modelArmorConfig")]
    [InlineData("\"generationConfig\":{\"maxOutputToken\":10}", "generationConfig.maxOutputToken")]
    [InlineData("\"generation_config\":{\"temprature\":0.2}", "generation_config.temprature")]
    [InlineData("\"generationConfig\":{\"thinkingConfig\":{\"thinkingBudgets\":10}}", "generationConfig.thinkingConfig.thinkingBudgets")]
    [InlineData("\"toolConfig\":{\"functionCallingConfig\":{\"modes\":\"ANY\"}}", "toolConfig.functionCallingConfig.modes")]
    [InlineData("\"systemInstruction\":{\"parts\":[{\"txt\":\"Be brief.\"}]}", "systemInstruction.parts[0].txt")]
    public void AFieldGeminiDoesNotDefine_IsRefusedNamingIt_AsGoogleRefusesIt(string fields, string param)
    {
        var error = Assert.Throws<TranslationException>(() => Begin(WithRequest(fields)));

        Assert.Equal(param, error.Param);
        Assert.Contains("Unknown name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownFieldInAPart_IsRefusedWithItsPosition()
    {
        var error = Assert.Throws<TranslationException>(() => Begin("""{"contents":[{"role":"user","parts":[{"text":"Hi","mood":"curious"}]}]}"""));

        Assert.Equal("contents[0].parts[0].mood", error.Param);
    }

    [Fact]
    public void ABuiltInToolBesideFunctionsInOneToolObject_IsRefused_NotSilentlyLeftOut()
    {
        var error = Assert.Throws<TranslationException>(() => Begin(WithRequest(
            "\"tools\":[{\"functionDeclarations\":[{\"name\":\"get_weather\"}],\"googleSearch\":{}}]")));

        Assert.Equal("tools[0].googleSearch", error.Param);
    }

    [Theory]
    [InlineData("""{"contents":[{"role":"user","parts":[{"fileData":{"fileUri":"https://example.com/v.mp4","mimeType":"video/mp4"},"videoMetadata":{"startOffset":"10s"}}]}]}""", "contents[0].parts[0].videoMetadata")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"Sum it"}]},{"role":"model","parts":[{"executableCode":{"language":"PYTHON","code":"print(1+1)"}},{"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"2"}}]},{"role":"user","parts":[{"text":"Thanks"}]}]}""", "contents[1].parts[0].executableCode")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"Draw"}]},{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]},{"role":"user","parts":[{"text":"Nice"}]}]}""", "contents[1].parts[0]")]
    [InlineData("""{"contents":[{"role":"user","parts":[{"text":"Look"}]},{"role":"model","parts":[{"functionCall":{"id":"c1","name":"snap","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"id":"c1","name":"snap","response":{"ok":true},"parts":[{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]}}]}]}""", "contents[2].parts[0].functionResponse.parts")]
    public void WhatAChatUpstreamCannotReadAndTheAnswerDependsOn_IsRefused(string body, string param) =>
        Assert.Equal(param, Assert.Throws<TranslationException>(() => Begin(body)).Param);

    [Fact]
    public void FieldsThatDoNotChangeTheQuestion_AreDroppedAndReported_AsTheClientSpelledThem()
    {
        var call = Begin("""
            {"contents":[{"role":"user","parts":[{"text":"Hi","partMetadata":{"source":"ui"}}]}],
             "generation_config":{"enable_enhanced_civic_answers":true,"imageConfig":{"aspectRatio":"16:9"},"thinkingConfig":{"includeThoughts":true}},
             "toolConfig":{"retrievalConfig":{"languageCode":"en"}},
             "tools":[{"functionDeclarations":[{"name":"get_weather","response":{"type":"OBJECT"}}]}]}
            """);

        Assert.Equal(
            ["contents[0].parts[0].partMetadata", "generation_config.enable_enhanced_civic_answers", "generation_config.imageConfig",
             "generation_config.thinkingConfig.includeThoughts", "toolConfig.retrievalConfig", "tools[0].functionDeclarations[0].response"],
            call.Dropped);
        var sent = JsonNode.Parse(call.Request.Body!.Value.Span)!.ToJsonString();
        Assert.DoesNotContain("civic", sent, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("partMetadata", sent, StringComparison.Ordinal);
    }

    [Fact]
    public void SettingsThatAskForNothing_AreNotReported() =>
        Assert.Empty(Begin(WithRequest("\"generationConfig\":{\"enableEnhancedCivicAnswers\":false,\"thinkingConfig\":{\"includeThoughts\":false}}")).Dropped);

    [Fact]
    public void ADroppedField_OnAStrictModel_IsRefused()
    {
        var error = Assert.Throws<TranslationException>(() => Begin(WithRequest("\"generationConfig\":{\"enableEnhancedCivicAnswers\":true}"), Chat with { StrictTranslation = true }));

        Assert.Equal("generationConfig.enableEnhancedCivicAnswers", error.Param);
    }

    [Fact]
    public void EveryMappedField_InEitherSpelling_IsAccepted()
    {
        var call = Begin("""
            {"model":"models/m","contents":[{"role":"user","parts":[{"text":"Hi"},{"inline_data":{"mime_type":"image/png","data":"iVBORw0KGgo="},"media_resolution":{"level":"MEDIA_RESOLUTION_LOW"}}]}],
             "system_instruction":{"role":"system","parts":[{"text":"Be brief."}]},
             "generation_config":{"candidate_count":1,"stop_sequences":["x"],"max_output_tokens":5,"temperature":0.1,"top_p":0.9,"seed":3,
               "presence_penalty":0.1,"frequency_penalty":0.1,"response_logprobs":true,"logprobs":2,"response_mime_type":"text/plain",
               "thinking_config":{"thinking_budget":0}},
             "tools":[{"function_declarations":[{"name":"f","description":"d","parameters_json_schema":{"type":"object"}}]}],
             "tool_config":{"function_calling_config":{"mode":"AUTO","allowed_function_names":["f"]}}}
            """);

        Assert.Empty(call.Dropped);
    }
}
