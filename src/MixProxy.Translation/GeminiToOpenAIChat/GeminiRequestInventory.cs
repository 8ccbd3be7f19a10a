using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.GeminiToOpenAIChat;

/// <summary>
/// Every field of Gemini's <c>GenerateContentRequest</c> (the Gemini API reference, v1beta) and what the translation
/// to Chat Completions does with it, in one place: read and mapped by <see cref="GeminiToChatRequestTranslator"/>,
/// dropped and reported, or refused. A field Gemini does not define is refused as Google refuses it
/// (<c>Unknown name</c>), since a misspelt setting left out would change the answer without a word. Each field is
/// listed in camelCase and snake_case, as the REST API accepts both.
/// </summary>
internal static class GeminiRequestInventory
{
    private const string NotInGemini = "Unknown name '{0}': the Gemini API has no such field here.";

    private static readonly FieldInventory Blob = Gemini().Read(Both("mimeType", "data"));

    private static readonly FieldInventory FileData = Gemini().Read(Both("mimeType", "fileUri"));

    private static readonly FieldInventory FunctionCall = Gemini().Read("id", "name", "args");

    private static readonly FieldInventory FunctionResponse = Gemini()
        .Read("id", "name", "response")
        .Refuse("A function result with media parts cannot be sent to an OpenAI-protocol model: a Chat tool message holds text.", null, Both("parts"))
        .Drop("Scheduling of a function result is a Live API setting; Chat Completions has none.", null, Both("willContinue", "scheduling"));

    private static readonly FieldInventory Part = Gemini()
        .Read("text", "thought")
        .Read(Blob, Both("inlineData"))
        .Read(FileData, Both("fileData"))
        .Read(FunctionCall, Both("functionCall"))
        .Read(FunctionResponse, Both("functionResponse"))
        .Read(Both("thoughtSignature", "mediaResolution"))
        .Refuse("Chat Completions cannot clip or sample a video.", null, Both("videoMetadata"))
        .Refuse("Code the model ran with Google's code execution cannot be sent to an OpenAI-protocol model, which has no such tool.", null, Both("executableCode", "codeExecutionResult"))
        .Drop("Part metadata is for the client's own bookkeeping; Chat content parts have no place for it.", null, Both("partMetadata"));

    private static readonly FieldInventory Content = Gemini().Read("role").Read(Part, "parts");

    private static readonly FieldInventory FunctionDeclaration = Gemini()
        .Read("name", "description", "parameters")
        .Read(Both("parametersJsonSchema"))
        .Drop("Chat tools describe only a function's parameters; the model reads the result it gets.", null, Both("response", "responseJsonSchema"))
        .Drop("A function's blocking behaviour is a Live API setting; Chat Completions has none.", null, "behavior");

    private const string BuiltIn = "Google's built-in tools cannot be used with an OpenAI-protocol model: its own tools are other products, whose results could not be turned back into Gemini's.";

    private static readonly FieldInventory Tool = Gemini()
        .Read(FunctionDeclaration, Both("functionDeclarations"))
        .Read("type", "function")
        .Refuse(BuiltIn, _ => true, Both("googleSearch", "googleSearchRetrieval", "codeExecution", "urlContext", "computerUse", "fileSearch", "googleMaps", "mcpServers", "retrieval", "enterpriseWebSearch"));

    private static readonly FieldInventory FunctionCallingConfig = Gemini().Read("mode").Read(Both("allowedFunctionNames"));

    private static readonly FieldInventory ToolConfig = Gemini()
        .Read(FunctionCallingConfig, Both("functionCallingConfig"))
        .Drop("Retrieval settings (a location, a language) serve Google's built-in tools, which this route does not offer.", null, Both("retrievalConfig"))
        .Drop("Server-side tool invocations serve Google's built-in tools, which this route does not offer.", null, Both("includeServerSideToolInvocations"));

    private static readonly FieldInventory ThinkingConfig = Gemini()
        .Read(Both("thinkingBudget", "thinkingLevel"))
        .Drop("Chat Completions has no switch for thought summaries: the upstream sends its reasoning when it has any.", null, Both("includeThoughts"));

    private static readonly FieldInventory GenerationConfig = Gemini()
        .Read("temperature", "seed")
        .Read(Both("candidateCount", "stopSequences", "maxOutputTokens", "topP", "topK", "responseMimeType", "responseSchema", "responseJsonSchema",
            "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "responseModalities", "speechConfig", "mediaResolution"))
        .Read(ThinkingConfig, Both("thinkingConfig"))
        .Drop("Enhanced civic answers are a Google feature; Chat Completions has no such switch.", null, Both("enableEnhancedCivicAnswers"))
        .Drop("With image output refused (responseModalities IMAGE), image settings have nothing to shape.", null, Both("imageConfig"));

    private static readonly FieldInventory Request = Gemini()
        .Read("model")
        .Read(Content, "contents")
        .Read(Content, Both("systemInstruction"))
        .Read(Tool, "tools")
        .Read(ToolConfig, Both("toolConfig"))
        .Read(GenerationConfig, Both("generationConfig"))
        .Read(Both("safetySettings", "cachedContent"))
        .Read("labels");

    /// <summary>Refuses a field Gemini does not define and drops and reports those Chat has no place for; the translator reads the rest.</summary>
    public static void Check(JsonElement request, DroppedFields dropped) => Request.Check(request, null, dropped);

    private static FieldInventory Gemini() => new(UnknownFieldPolicy.Refuse, NotInGemini);

    /// <summary>A field's camelCase name and its snake_case spelling.</summary>
    private static string[] Both(params string[] camelNames) => [.. camelNames.SelectMany(name => new[] { name, Snake(name) }).Distinct()];

    private static string Snake(string camel)
    {
        var snake = new System.Text.StringBuilder(camel.Length + 4);
        foreach (var c in camel)
        {
            if (char.IsUpper(c))
            {
                snake.Append('_').Append(char.ToLowerInvariant(c));
            }
            else
            {
                snake.Append(c);
            }
        }

        return snake.ToString();
    }
}
