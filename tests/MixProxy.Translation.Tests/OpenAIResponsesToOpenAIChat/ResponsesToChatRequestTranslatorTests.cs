using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using MixProxy.Translation.OpenAIChatToGemini;
using MixProxy.Translation.OpenAIResponses;
using MixProxy.Translation.OpenAIResponsesToOpenAIChat;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Tests.OpenAIResponsesToOpenAIChat;

/// <summary>
/// How a Responses request becomes a Chat Completions request: one that a real OpenAI Chat upstream takes as it is,
/// and that the Chat → Gemini translator reads the same way. What cannot be said in Chat is refused naming the field
/// as the Responses client wrote it.
/// </summary>
public sealed class ResponsesToChatRequestTranslatorTests
{
    private const string UpstreamModel = "upstream-model";

    // Valid base64, as the Gemini side requires of a signature it sends back.
    private const string Signature = "c2lnbmF0dXJlLTE=";

    private static readonly string Sealed = ResponsesReasoning.Seal(Signature);

    private static (JsonNode Chat, ResponsesRequestFacts Facts) TranslateWithFacts(string body, string? prior = null, DroppedFields? dropped = null)
    {
        using var request = JsonDocument.Parse(body);
        using var priorItems = prior is null ? null : JsonDocument.Parse(prior);
        var output = new ArrayBufferWriter<byte>();
        var facts = ResponsesToChatRequestTranslator.Translate(request.RootElement, priorItems?.RootElement, UpstreamModel, output, dropped: dropped);
        return (JsonNode.Parse(output.WrittenSpan)!, facts);
    }

    private static JsonNode Chat(string body, string? prior = null) => TranslateWithFacts(body, prior).Chat;

    private static TranslationException Refusal(string body, string? prior = null)
    {
        var error = Assert.Throws<TranslationException>(() => Chat(body, prior));
        Assert.Equal(400, error.StatusCode);
        return error;
    }

    private static string Request(string fields) => $$"""{"model":"client-model","input":"Hi",{{fields}}}""";

    private static string WithInput(string items) => $$"""{"model":"client-model","input":{{items}}}""";

    private static JsonArray Messages(JsonNode chat) => chat["messages"]!.AsArray();

    // Written as the gateway writes bodies, so expectations read as plain JSON.
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Json(JsonNode? node) => node?.ToJsonString(Relaxed) ?? "null";

    // ---- model, stream, instructions, messages ----

    [Fact]
    public void Translate_StringInput_IsOneUserMessageForTheGivenModel()
    {
        var chat = Chat("""{"model":"client-model","input":"What is 2+2?"}""");

        Assert.Equal(UpstreamModel, chat["model"]!.GetValue<string>());
        Assert.Equal("""[{"role":"user","content":"What is 2+2?"}]""", Json(chat["messages"]));
        Assert.Null(chat["stream"]);
    }

    [Fact]
    public void Translate_Stream_AlwaysAsksForUsage()
    {
        var chat = Chat(Request("\"stream\":true,\"stream_options\":{\"include_obfuscation\":false}"));

        Assert.True(chat["stream"]!.GetValue<bool>());
        Assert.Equal("""{"include_usage":true}""", Json(chat["stream_options"]));
    }

    [Fact]
    public void Translate_Instructions_AreTheFirstSystemMessage_BeforeTheContinuedConversation()
    {
        var chat = Chat("""{"instructions":"Be brief.","input":"And now?"}""", prior: """[{"role":"user","content":"Hello"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi!"}]}]""");

        Assert.Equal(
            """[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"},{"role":"assistant","content":[{"type":"text","text":"Hi!"}]},{"role":"user","content":"And now?"}]""",
            Json(chat["messages"]));
    }

    [Fact]
    public void Translate_MessageItems_KeepTheirRoles_WithOrWithoutType()
    {
        var chat = Chat(WithInput("""
            [{"role":"system","content":"S"},{"type":"message","role":"developer","content":[{"type":"input_text","text":"D"}]},
             {"type":"message","role":"user","content":[{"type":"input_text","text":"U"}]},{"role":"assistant","content":"A"}]
            """));

        Assert.Equal(
            """[{"role":"system","content":"S"},{"role":"developer","content":[{"type":"text","text":"D"}]},{"role":"user","content":[{"type":"text","text":"U"}]},{"role":"assistant","content":[{"type":"text","text":"A"}]}]""",
            Json(chat["messages"]));
    }

    [Fact]
    public void Translate_DeveloperMessage_ReachesGeminiAsSystemInstruction()
    {
        var chat = Chat(WithInput("""[{"role":"developer","content":"Answer in French."},{"role":"user","content":"Hi"}]"""));

        var gemini = ToGemini(chat);

        Assert.Equal("Answer in French.", gemini["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public void Translate_InputImages_BecomeImageUrlParts_WithTheirDetail()
    {
        var chat = Chat(WithInput("""
            [{"role":"user","content":[{"type":"input_text","text":"Compare"},
              {"type":"input_image","image_url":"https://example.com/a.png","detail":"low"},
              {"type":"input_image","image_url":"data:image/png;base64,AAAA"}]}]
            """));

        Assert.Equal(
            """[{"type":"text","text":"Compare"},{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"low"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]""",
            Json(Messages(chat)[0]!["content"]));
    }

    [Fact]
    public void Translate_InputImageByFileIdOnly_IsRefusedNamingTheFileId()
    {
        var error = Refusal(WithInput("""[{"role":"user","content":[{"type":"input_text","text":"x"},{"type":"input_image","file_id":"file-1","detail":"auto"}]}]"""));

        Assert.Equal("input[0].content[1].file_id", error.Param);
    }

    [Fact]
    public void Translate_InputImageDetailOriginal_IsRefused_AsNoChatDetailMeansIt()
    {
        var error = Refusal(WithInput("""[{"role":"user","content":[{"type":"input_image","image_url":"https://example.com/a.png","detail":"original"}]}]"""));

        Assert.Equal("input[0].content[0].detail", error.Param);
    }

    [Fact]
    public void Translate_InputFileWithData_BecomesAChatFilePart_WithItsFilename()
    {
        var chat = Chat(WithInput("""[{"role":"user","content":[{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0="}]}]"""));

        Assert.Equal("""[{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0=","filename":"a.pdf"}}]""", Json(Messages(chat)[0]!["content"]));
    }

    [Fact]
    public void Translate_InputFileByUrl_GoesAsFileId_WhereTheGeminiSideTakesAUrl()
    {
        var chat = Chat(WithInput("""[{"role":"user","content":[{"type":"input_file","file_url":"https://example.com/report.pdf"}]}]"""));

        Assert.Equal("""[{"type":"file","file":{"file_id":"https://example.com/report.pdf"}}]""", Json(Messages(chat)[0]!["content"]));
        var part = ToGemini(chat)["contents"]![0]!["parts"]![0]!;
        Assert.Equal("""{"mimeType":"application/pdf","fileUri":"https://example.com/report.pdf"}""", Json(part["fileData"]));
    }

    [Fact]
    public void Translate_InputFileByFileIdOnly_IsRefusedNamingTheFileId()
    {
        var error = Refusal(WithInput("""[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]"""));

        Assert.Equal("input[0].content[0].file_id", error.Param);
    }

    [Theory]
    [InlineData("user", """{"type":"input_audio","input_audio":{"data":"AA","format":"wav"}}""")]
    [InlineData("user", """{"type":"output_text","text":"x"}""")]
    [InlineData("assistant", """{"type":"input_image","image_url":"https://example.com/a.png"}""")]
    [InlineData("system", """{"type":"input_image","image_url":"https://example.com/a.png"}""")]
    [InlineData("developer", """{"type":"input_file","file_data":"data:application/pdf;base64,AA"}""")]
    public void Translate_PartTypeTheRoleCannotHold_IsRefusedNamingItsType(string role, string part)
    {
        var error = Refusal(WithInput($$"""[{"role":"{{role}}","content":[{"type":"input_text","text":"x"},{{part}}]}]"""));

        Assert.Equal("input[0].content[1].type", error.Param);
    }

    [Fact]
    public void Translate_AssistantRefusal_IsKeptAsText_NotDropped()
    {
        var chat = Chat(WithInput("""
            [{"role":"user","content":"Do it"},
             {"type":"message","role":"assistant","id":"msg_1","status":"completed","content":[{"type":"output_text","text":"Part one.","annotations":[]},{"type":"refusal","refusal":"I can't help with the rest."}]},
             {"role":"user","content":"Why?"}]
            """));

        Assert.Equal("""[{"type":"text","text":"Part one."},{"type":"text","text":"I can't help with the rest."}]""", Json(Messages(chat)[1]!["content"]));
    }

    // ---- the model's turns: messages, reasoning, function calls, their results ----

    [Fact]
    public void Translate_OneModelTurn_TextReasoningAndCalls_IsOneAssistantMessage()
    {
        var chat = Chat(WithInput($$"""
            [{"role":"user","content":"Weather in Paris and Rome?"},
             {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"I should call the tool twice."}],"encrypted_content":"{{Sealed}}"},
             {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
             {"type":"function_call","id":"fc_1","call_id":"call_a","name":"weather","arguments":"{\"city\":\"Paris\"}","status":"completed"},
             {"type":"function_call","id":"fc_2","call_id":"call_b","name":"weather","arguments":"{\"city\":\"Rome\"}"},
             {"type":"function_call_output","call_id":"call_a","output":"18C"},
             {"type":"function_call_output","call_id":"call_b","output":"22C"}]
            """));

        var messages = Messages(chat);
        Assert.Equal(4, messages.Count);
        Assert.Equal(
            """{"role":"assistant","content":[{"type":"text","text":"Checking."}],"tool_calls":[{"id":"call_a","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"},"extra_content":{"google":{"thought_signature":"SIG"}}},{"id":"call_b","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}}]}""".Replace("SIG", Signature, StringComparison.Ordinal),
            Json(messages[1]));
        Assert.Equal("""{"role":"tool","tool_call_id":"call_a","content":"18C"}""", Json(messages[2]));
        Assert.Equal("""{"role":"tool","tool_call_id":"call_b","content":"22C"}""", Json(messages[3]));
    }

    [Fact]
    public void Translate_ReasoningSealedElsewhere_IsDropped_AndItsCallGoesUnsigned()
    {
        var chat = Chat(WithInput("""
            [{"role":"user","content":"x"},
             {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAAB-openai-own-ciphertext"},
             {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"}]
            """));

        var messages = Messages(chat);
        Assert.Equal(2, messages.Count);
        Assert.Null(messages[1]!["tool_calls"]![0]!["extra_content"]);
    }

    [Fact]
    public void Translate_ReasoningWhoseTurnEndsWithoutACall_LosesItsSignature()
    {
        var chat = Chat(WithInput($$"""
            [{"role":"user","content":"x"},
             {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"{{Sealed}}"},
             {"role":"assistant","content":"Which city?"},
             {"role":"user","content":"Paris"},
             {"type":"function_call","call_id":"c1","name":"weather","arguments":"{}"}]
            """));

        var messages = Messages(chat);
        Assert.Equal("""{"role":"assistant","content":[{"type":"text","text":"Which city?"}]}""", Json(messages[1]));
        Assert.Null(messages[3]!["tool_calls"]![0]!["extra_content"]);
    }

    [Fact]
    public void Translate_AssistantMessageWithNoParts_KeepsItsTurnWithEmptyContent()
    {
        var chat = Chat(WithInput("""[{"role":"user","content":"x"},{"role":"assistant","content":[]},{"role":"user","content":"y"}]"""));

        Assert.Equal("""{"role":"assistant","content":""}""", Json(Messages(chat)[1]));
    }

    [Fact]
    public void Translate_FunctionCallOutputTextParts_AreChatTextParts()
    {
        var chat = Chat(WithInput("""
            [{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
             {"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"line 1"},{"type":"input_text","text":"line 2"}]}]
            """));

        Assert.Equal("""{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"line 1"},{"type":"text","text":"line 2"}]}""", Json(Messages(chat)[1]));
    }

    [Theory]
    [InlineData("""{"type":"input_image","image_url":"https://example.com/chart.png"}""")]
    [InlineData("""{"type":"input_file","file_data":"data:application/pdf;base64,AA"}""")]
    public void Translate_FunctionCallOutputWithMedia_IsRefusedNamingThePart_NotDropped(string part)
    {
        var error = Refusal(WithInput($$"""
            [{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
             {"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"see"},{{part}}]}]
            """));

        Assert.Equal("input[1].output[1]", error.Param);
    }

    [Fact]
    public void Translate_FunctionCallOutputForNoKnownCall_IsRefusedNamingItsCallId()
    {
        var error = Refusal(WithInput("""[{"role":"user","content":"x"},{"type":"function_call_output","call_id":"nowhere","output":"1"}]"""));

        Assert.Equal("input[1].call_id", error.Param);
    }

    [Fact]
    public void Translate_OutputAnsweringACallOfThePreviousResponse_IsAccepted()
    {
        var chat = Chat(
            WithInput("""[{"type":"function_call_output","call_id":"c1","output":"42"}]"""),
            prior: """[{"role":"user","content":"x"},{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"}]""");

        Assert.Equal(3, Messages(chat).Count);
        Assert.Equal("c1", Messages(chat)[2]!["tool_call_id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"type":"item_reference","id":"msg_1"}""")]
    [InlineData("""{"id":"msg_1"}""")]
    public void Translate_ItemReference_IsRefused(string item)
    {
        var error = Refusal(WithInput($"[{{\"role\":\"user\",\"content\":\"x\"}},{item}]"));

        Assert.Equal("input[1]", error.Param);
        Assert.Contains("not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_WebSearchCallRecord_IsSkipped_WithoutSplittingTheTurn()
    {
        var chat = Chat(WithInput("""
            [{"role":"user","content":"News?"},
             {"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"news"}},
             {"role":"assistant","content":"Here is the news."}]
            """));

        Assert.Equal(2, Messages(chat).Count);
        Assert.Equal("assistant", Messages(chat)[1]!["role"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("file_search_call")]
    [InlineData("computer_call")]
    [InlineData("computer_call_output")]
    [InlineData("code_interpreter_call")]
    [InlineData("local_shell_call")]
    [InlineData("mcp_call")]
    [InlineData("custom_tool_call")]
    public void Translate_ItemsOfHostedOrCustomTools_AreRefusedNamingTheirType(string type)
    {
        var error = Refusal(WithInput($$"""[{"role":"user","content":"x"},{"type":"{{type}}","id":"x_1","call_id":"c"}]"""));

        Assert.Equal("input[1].type", error.Param);
    }

    [Fact]
    public void Translate_AnImageTheModelDrew_IsDroppedFromItsTurnAndReported_TheTurnKeepsItsText()
    {
        var dropped = new DroppedFields(strict: false);
        var (chat, _) = TranslateWithFacts(WithInput("""
            [{"role":"user","content":"Draw a cat"},
             {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Here it is."}]},
             {"type":"image_generation_call","id":"ig_1","status":"completed","result":"iVBORw0KGgo=","output_format":"png"},
             {"role":"user","content":"Make it blue"}]
            """), dropped: dropped);

        Assert.Equal(3, Messages(chat).Count);
        Assert.Equal("""[{"type":"text","text":"Here it is."}]""", Json(Messages(chat)[1]!["content"]));
        Assert.Equal(["input[2]"], dropped.Names);
    }

    [Fact]
    public void Translate_AnImageTheModelDrew_OnAStrictModel_IsRefused()
    {
        var error = Assert.Throws<TranslationException>(() => TranslateWithFacts(
            WithInput("""[{"role":"user","content":"x"},{"type":"image_generation_call","id":"ig_1","status":"completed","result":"iVBORw0KGgo="}]"""),
            dropped: new DroppedFields(strict: true)));

        Assert.Equal("input[1]", error.Param);
        Assert.Contains("StrictTranslation", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_ImagesInTheContinuedConversation_AreReportedOnceAsThePreviousResponse()
    {
        var dropped = new DroppedFields(strict: false);
        TranslateWithFacts(Request("\"previous_response_id\":\"resp_1\""), prior: """
            [{"role":"user","content":"Draw a cat"},{"type":"image_generation_call","id":"ig_1","status":"completed","result":"iVBORw0KGgo="},
             {"type":"image_generation_call","id":"ig_2","status":"completed","result":"iVBORw0KGgo="}]
            """, dropped: dropped);

        Assert.Equal(["previous_response_id"], dropped.Names);
    }

    [Fact]
    public void Translate_ItemOfTheContinuedConversationItCannotSend_IsRefusedAsThePreviousResponse()
    {
        var error = Refusal(Request("\"previous_response_id\":\"resp_1\""), prior: """[{"type":"computer_call","id":"cu_1"}]""");

        Assert.Equal("previous_response_id", error.Param);
        Assert.Contains("input[0].type", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_NoInputAtAll_IsRefused()
    {
        var error = Refusal("""{"model":"m","input":[]}""");

        Assert.Equal("input", error.Param);
    }

    // ---- tools and tool choice ----

    [Fact]
    public void Translate_FunctionTool_MovesUnderFunction_WithParallelToolCalls()
    {
        var chat = Chat(Request("""
            "tools":[{"type":"function","name":"weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}],
            "parallel_tool_calls":false
            """));

        Assert.Equal(
            """[{"type":"function","function":{"name":"weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}}]""",
            Json(chat["tools"]));
        Assert.False(chat["parallel_tool_calls"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("web_search")]
    [InlineData("web_search_2025_08_26")]
    [InlineData("web_search_preview")]
    [InlineData("web_search_preview_2025_03_11")]
    public void Translate_HostedWebSearch_IsTheProvidersWebSearchFunction_AndSaysSo(string type)
    {
        var dropped = new DroppedFields(strict: false);
        var (chat, facts) = TranslateWithFacts(Request($$"""
            "tools":[{"type":"{{type}}","search_context_size":"high"}]
            """), dropped: dropped);

        Assert.Equal("""[{"type":"function","function":{"name":"web_search"}}]""", Json(chat["tools"]));
        Assert.True(facts.WebSearch);
        Assert.Equal("""[{"googleSearch":{}}]""", Json(ToGemini(chat)["tools"]));
        Assert.Equal(["tools[0].search_context_size"], dropped.Names); // a hint Google Search has no setting for
    }

    [Theory]
    [InlineData("""{"type":"web_search","user_location":{"type":"approximate","city":"Paris"}}""", "tools[0].user_location")]
    [InlineData("""{"type":"web_search","filters":{"allowed_domains":["example.com"]}}""", "tools[0].filters")]
    [InlineData("""{"type":"web_search","external_web_access":false}""", "tools[0].external_web_access")]
    [InlineData("""{"type":"web_search","search_context_size":"huge"}""", "tools[0].search_context_size")]
    public void Translate_WebSearchOptionsGoogleSearchCannotHonour_AreRefused(string tool, string param)
    {
        var error = Refusal(Request($"\"tools\":[{tool}]"));

        Assert.Equal(param, error.Param);
    }

    [Fact]
    public void Translate_ClientFunctionNamedWebSearch_StaysAFunction()
    {
        var chat = Chat(Request("""
            "tools":[{"type":"function","name":"web_search","parameters":null,"strict":null}]
            """));

        Assert.Equal("""{"type":"object","properties":{},"additionalProperties":false}""", Json(chat["tools"]![0]!["function"]!["parameters"]));
        Assert.Equal("web_search", ToGemini(chat)["tools"]![0]!["functionDeclarations"]![0]!["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("file_search")]
    [InlineData("computer_use_preview")]
    [InlineData("code_interpreter")]
    [InlineData("image_generation")]
    [InlineData("mcp")]
    [InlineData("local_shell")]
    [InlineData("custom")]
    public void Translate_OtherToolTypes_AreRefusedNamingTheirType(string type)
    {
        var error = Refusal(Request($$"""
            "tools":[{"type":"function","name":"f","parameters":null,"strict":null},{"type":"{{type}}"}]
            """));

        Assert.Equal("tools[1].type", error.Param);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("none")]
    [InlineData("required")]
    public void Translate_ToolChoiceModes_PassAsTheyAre(string mode)
    {
        var chat = Chat(Request($$"""
            "tools":[{"type":"function","name":"f","parameters":null,"strict":null}],"tool_choice":"{{mode}}"
            """));

        Assert.Equal(mode, chat["tool_choice"]!.GetValue<string>());
    }

    [Fact]
    public void Translate_ToolChoiceFunction_IsChatsNamedFunction()
    {
        var chat = Chat(Request("""
            "tools":[{"type":"function","name":"f","parameters":null,"strict":null}],"tool_choice":{"type":"function","name":"f"}
            """));

        Assert.Equal("""{"type":"function","function":{"name":"f"}}""", Json(chat["tool_choice"]));
    }

    [Fact]
    public void Translate_ToolChoiceNamingNoTool_IsRefused()
    {
        var error = Refusal(Request("""
            "tools":[{"type":"function","name":"f","parameters":null,"strict":null}],"tool_choice":{"type":"function","name":"g"}
            """));

        Assert.Equal("tool_choice.name", error.Param);
    }

    [Fact]
    public void Translate_AllowedTools_SendsOnlyTheAllowedTools_SoTheOthersCannotBeCalled()
    {
        var (chat, facts) = TranslateWithFacts(Request("""
            "tools":[{"type":"function","name":"a","parameters":null,"strict":null},{"type":"function","name":"b","parameters":null,"strict":null},{"type":"web_search"}],
            "tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"b"}]}
            """));

        Assert.Equal("""[{"type":"function","function":{"name":"b"}}]""", Json(chat["tools"]));
        Assert.Equal("required", chat["tool_choice"]!.GetValue<string>());
        Assert.False(facts.WebSearch);
    }

    [Theory]
    [InlineData("""{"type":"web_search_preview"}""", "tool_choice.type")]
    [InlineData("""{"type":"file_search"}""", "tool_choice.type")]
    [InlineData("""{"type":"mcp","server_label":"s"}""", "tool_choice.type")]
    [InlineData("""{"type":"allowed_tools","mode":"auto","tools":[{"type":"mcp","server_label":"s"}]}""", "tool_choice.tools[0].type")]
    [InlineData("\"sometimes\"", "tool_choice")]
    public void Translate_ToolChoiceChatCannotExpress_IsRefused(string choice, string param)
    {
        var error = Refusal(Request($$"""
            "tools":[{"type":"web_search"}],"tool_choice":{{choice}}
            """));

        Assert.Equal(param, error.Param);
    }

    [Fact]
    public void Translate_ToolChoiceAndParallelCallsWithoutTools_AreLeftOut_AsChatRefusesThem()
    {
        var chat = Chat(Request("\"tools\":[],\"tool_choice\":\"auto\",\"parallel_tool_calls\":true"));

        Assert.Null(chat["tools"]);
        Assert.Null(chat["tool_choice"]);
        Assert.Null(chat["parallel_tool_calls"]);
    }

    // ---- knobs ----

    [Fact]
    public void Translate_ReasoningEffort_IsReasoningEffort_AndTheSummaryGoesToTheFacts()
    {
        var (chat, facts) = TranslateWithFacts(Request("""
            "reasoning":{"effort":"low","summary":"detailed"}
            """));

        Assert.Equal("low", chat["reasoning_effort"]!.GetValue<string>());
        Assert.Equal("detailed", facts.ReasoningSummary);
        Assert.Null(chat["reasoning"]);
    }

    [Fact]
    public void Translate_DeprecatedGenerateSummary_CountsAsSummary()
    {
        var (_, facts) = TranslateWithFacts(Request("""
            "reasoning":{"generate_summary":"concise"}
            """));

        Assert.Equal("concise", facts.ReasoningSummary);
    }

    [Theory]
    [InlineData("""{"effort":"extreme"}""", "reasoning.effort")]
    [InlineData("""{"summary":"verbose"}""", "reasoning.summary")]
    [InlineData("""{"mode":"pro"}""", "reasoning.mode")]
    [InlineData("\"high\"", "reasoning")]
    public void Translate_ReasoningValuesChatCannotTake_AreRefused(string reasoning, string param)
    {
        var error = Refusal(Request($"\"reasoning\":{reasoning}"));

        Assert.Equal(param, error.Param);
    }

    [Fact]
    public void Translate_JsonSchemaFormat_IsChatsResponseFormat()
    {
        var chat = Chat(Request("""
            "text":{"format":{"type":"json_schema","name":"answer","description":"The answer","schema":{"type":"object","properties":{"n":{"type":"integer"}}},"strict":true},"verbosity":"low"}
            """));

        Assert.Equal(
            """{"type":"json_schema","json_schema":{"name":"answer","description":"The answer","schema":{"type":"object","properties":{"n":{"type":"integer"}}},"strict":true}}""",
            Json(chat["response_format"]));
        Assert.Equal("low", chat["verbosity"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("json_object", """{"type":"json_object"}""")]
    [InlineData("text", "null")]
    public void Translate_OtherTextFormats_AreChatsOwn(string type, string expected)
    {
        var chat = Chat(Request($$$"""
            "text":{"format":{"type":"{{{type}}}"}}
            """));

        Assert.Equal(expected, Json(chat["response_format"]));
    }

    [Fact]
    public void Translate_SamplingAndBookkeeping_AreTheSameChatFields_AndGatewayFieldsStayBehind()
    {
        var chat = Chat(Request("""
            "max_output_tokens":300,"temperature":0.2,"top_p":0.9,"user":"u1","safety_identifier":"s1","prompt_cache_key":"k1",
            "prompt_cache_retention":"24h","service_tier":"flex","metadata":{"team":"a"},"store":false,"previous_response_id":null,
            "truncation":"disabled","background":false,"include":["reasoning.encrypted_content"]
            """));

        Assert.Equal(300, chat["max_completion_tokens"]!.GetValue<int>());
        Assert.Equal(0.2, chat["temperature"]!.GetValue<double>());
        Assert.Equal(0.9, chat["top_p"]!.GetValue<double>());
        Assert.Equal("u1", chat["user"]!.GetValue<string>());
        Assert.Equal("s1", chat["safety_identifier"]!.GetValue<string>());
        Assert.Equal("k1", chat["prompt_cache_key"]!.GetValue<string>());
        Assert.Equal("24h", chat["prompt_cache_retention"]!.GetValue<string>());
        Assert.Equal("flex", chat["service_tier"]!.GetValue<string>());
        foreach (var consumed in new[] { "metadata", "store", "previous_response_id", "truncation", "background", "include", "max_output_tokens" })
        {
            Assert.Null(chat[consumed]);
        }
    }

    [Fact]
    public void Translate_LogprobsAskedForInIncludeOrByTopLogprobs_AreChatsLogprobs()
    {
        var included = Chat(Request("\"include\":[\"message.output_text.logprobs\"]"));
        var top = Chat(Request("\"top_logprobs\":3"));

        Assert.True(included["logprobs"]!.GetValue<bool>());
        Assert.Null(included["top_logprobs"]);
        Assert.True(top["logprobs"]!.GetValue<bool>());
        Assert.Equal(3, top["top_logprobs"]!.GetValue<int>());
    }

    [Fact]
    public void Translate_SearchSourcesInInclude_AreInTheFacts()
    {
        var (_, facts) = TranslateWithFacts(Request("\"include\":[\"web_search_call.action.sources\"]"));

        Assert.True(facts.SearchSources);
    }

    [Theory]
    [InlineData("\"include\":[\"file_search_call.results\"]", "include[0]")]
    [InlineData("\"include\":[\"reasoning.encrypted_content\",\"message.input_image.image_url\"]", "include[1]")]
    [InlineData("\"top_logprobs\":21", "top_logprobs")]
    [InlineData("\"background\":true", "background")]
    [InlineData("\"conversation\":\"conv_1\"", "conversation")]
    [InlineData("\"prompt\":{\"id\":\"pmpt_1\"}", "prompt")]
    [InlineData("\"max_tool_calls\":3", "max_tool_calls")]
    [InlineData("\"truncation\":\"sometimes\"", "truncation")]
    [InlineData("\"context_management\":[{\"type\":\"compaction\"}]", "context_management")]
    public void Translate_GatewayFieldsItCannotHonour_AreRefused(string field, string param)
    {
        var error = Refusal(Request(field));

        Assert.Equal(param, error.Param);
    }

    [Fact]
    public void Translate_UnknownTopLevelField_IsRefusedAsOpenAIRefusesIt()
    {
        var error = Refusal(Request("\"foo\":1"));

        Assert.Equal("foo", error.Param);
        Assert.Equal("Unknown parameter: 'foo'.", error.Message);
    }

    [Theory]
    [InlineData("""{"input":"x","temperature":"0.2"}""", "temperature")]
    [InlineData("""{"input":"x","max_output_tokens":1.5}""", "max_output_tokens")]
    [InlineData("""{"input":"x","stream":"yes"}""", "stream")]
    [InlineData("""{"input":"x","stream_options":{"include_obfuscation":"no"}}""", "stream_options.include_obfuscation")]
    [InlineData("""{"input":"x","instructions":["Be brief."]}""", "instructions")]
    [InlineData("""{"input":"x","metadata":"team-a"}""", "metadata")]
    [InlineData("""{"input":"x","include":"reasoning.encrypted_content"}""", "include")]
    [InlineData("""{"input":"x","tools":{"type":"function"}}""", "tools")]
    [InlineData("""{"input":"x","tools":[{"type":"function","name":5}]}""", "tools[0].name")]
    [InlineData("""{"input":"x","tools":[{"type":"function","name":"f","parameters":"{}"}]}""", "tools[0].parameters")]
    [InlineData("""{"input":"x","text":{"format":{"type":"json_schema","name":"n"}}}""", "text.format.schema")]
    [InlineData("""{"input":5}""", "input")]
    [InlineData("""{"input":["hi"]}""", "input[0]")]
    [InlineData("""{"input":[{"role":"user","content":5}]}""", "input[0].content")]
    [InlineData("""{"input":[{"role":"user","content":[{"type":"input_text","text":7}]}]}""", "input[0].content[0].text")]
    [InlineData("""{"input":[{"role":"robot","content":"x"}]}""", "input[0].role")]
    [InlineData("""{"input":[{"type":"function_call","call_id":"c","name":"f","arguments":{}}]}""", "input[0].arguments")]
    [InlineData("""{"input":[{"type":"function_call","name":"f","arguments":"{}"}]}""", "input[0].call_id")]
    [InlineData("""{"input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":5}]}""", "input[1].output")]
    [InlineData("""{"input":[{"type":"reasoning","summary":[],"encrypted_content":5}]}""", "input[0].encrypted_content")]
    public void Translate_FieldOfTheWrongJsonType_IsRefusedNamingIt(string body, string param)
    {
        var error = Refusal(body);

        Assert.Equal(param, error.Param);
    }

    // ---- signatures the host recalls ----

    [Fact]
    public void UnsignedCallIds_AreTheCallsWithoutASealedReasoningItemJustBefore()
    {
        using var request = JsonDocument.Parse(WithInput($$"""
            [{"type":"function_call_output","call_id":"p1","output":"ok"},
             {"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":"{{Sealed}}"},
             {"type":"function_call","call_id":"signed","name":"f","arguments":"{}"},
             {"type":"function_call","call_id":"second","name":"f","arguments":"{}"},
             {"type":"reasoning","id":"rs_3","summary":[],"encrypted_content":"foreign"},
             {"type":"function_call","call_id":"foreign","name":"f","arguments":"{}"}]
            """));
        using var prior = JsonDocument.Parse("""[{"role":"user","content":"x"},{"type":"function_call","call_id":"p1","name":"f","arguments":"{}"}]""");

        Assert.Equal(["p1", "second", "foreign"], ResponsesToChatRequestTranslator.UnsignedCallIds(request.RootElement, prior.RootElement));
    }

    [Theory]
    [InlineData("5")]
    [InlineData("""{"input":"just text"}""")]
    [InlineData("""{"input":[5,{"type":7},{"type":"function_call","call_id":9},{"type":"function_call"},{"type":"reasoning","encrypted_content":[]}]}""")]
    public void UnsignedCallIds_OddInput_ReadsWhatItCan_WithoutThrowing(string body)
    {
        using var request = JsonDocument.Parse(body);

        Assert.Empty(ResponsesToChatRequestTranslator.UnsignedCallIds(request.RootElement, null));
    }

    // ---- through the Gemini side ----

    [Fact]
    public void Translate_ToolLoopHistory_RunsThroughTheGeminiSide_WithTheSignatureOnItsFunctionCall()
    {
        var chat = Chat(WithInput($$"""
            [{"role":"user","content":"Weather in Paris?"},
             {"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"{{Sealed}}"},
             {"type":"function_call","id":"fc_1","call_id":"call_1","name":"weather","arguments":"{\"city\":\"Paris\"}"},
             {"type":"function_call_output","call_id":"call_1","output":"{\"temp\":18}"},
             {"role":"user","content":"And tomorrow?"}]
            """));

        var contents = ToGemini(chat)["contents"]!.AsArray();

        Assert.Equal(3, contents.Count);
        var call = contents[1]!["parts"]![0]!;
        Assert.Equal("model", contents[1]!["role"]!.GetValue<string>());
        Assert.Equal("""{"id":"call_1","name":"weather","args":{"city":"Paris"}}""", Json(call["functionCall"]));
        Assert.Equal(Signature, call["thoughtSignature"]!.GetValue<string>());
        Assert.Equal("""{"id":"call_1","name":"weather","response":{"output":{"temp":18}}}""", Json(contents[2]!["parts"]![0]!["functionResponse"]));
        Assert.Equal("And tomorrow?", contents[2]!["parts"]![1]!["text"]!.GetValue<string>());
    }

    private static JsonNode ToGemini(JsonNode chat)
    {
        using var request = JsonDocument.Parse(chat.ToJsonString());
        var profile = new UpstreamModelProfile
        {
            UpstreamModel = UpstreamModel,
            Thinking = ThinkingStyle.Level,
            RequiresThoughtSignatures = true,
            SupportsSearchWithFunctions = true,
        };
        var output = new ArrayBufferWriter<byte>();
        ChatToGeminiRequestTranslator.Translate(request.RootElement, profile, output);
        return JsonNode.Parse(output.WrittenSpan)!;
    }
}
