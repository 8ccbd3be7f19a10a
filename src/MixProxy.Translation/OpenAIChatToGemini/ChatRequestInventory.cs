using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>
/// Every field of a Chat Completions request (OpenAI's API reference) and what the translation to Gemini does with
/// it, in one place: read and mapped by the translator's parts, dropped and reported, or refused. A field the
/// reference does not define is dropped and reported rather than refused: OpenAI-compatible clients commonly send
/// other providers' extras (<c>min_p</c>, <c>repetition_penalty</c>), and none of them is lost without a word.
/// </summary>
internal static class ChatRequestInventory
{
    private const string NotInChat = "'{0}' is not a Chat Completions field the gateway can carry to Gemini.";

    private static readonly FieldInventory Function = Chat()
        .Read("name", "description", "parameters")
        .Drop("Gemini has no per-function strict mode: arguments are checked to be a JSON object, not against the schema.", value => value.ValueKind == JsonValueKind.True, "strict");

    private static readonly FieldInventory Tool = Chat()
        .Read("type")
        .Read(Function, "function")
        .Drop("A hint for OpenAI's search; Google Search takes none.", null, "search_context_size", "user_location")
        .Refuse("Google Search cannot be limited to a list of sites: the answer could cite others.", null, "filters");

    private static readonly FieldInventory ToolCallFunction = Chat().Read("name", "arguments");

    private static readonly FieldInventory ToolCall = Chat()
        .Read("id", "type", "index", "extra_content")
        .Read(ToolCallFunction, "function");

    private static readonly FieldInventory ContentPart = Chat()
        .Read("type", "text", "refusal")
        .Read(Chat().Read("url", "detail"), "image_url")
        .Read(Chat().Read("data", "format"), "input_audio")
        .Read(Chat().Read("file_data", "file_id", "filename"), "file");

    // What the gateway put in an answer's Google vendor field, sent back with the assistant message: the text's
    // signature goes back to Gemini; what describes the earlier answer asks nothing and is not sent; the code the model
    // ran and inline data cannot be placed back around the text they stood beside.
    private static readonly FieldInventory GoogleAnswerData = Chat()
        .Read("thought_signature", "web_search_queries", "search_entry_point", "url_context_metadata", "finish_message", "safety_ratings",
            "citation_metadata", "prompt_feedback", "model_version", "token_count", "grounding_attributions", "retrieval_metadata", "audio_mime_type")
        .Drop("Code the model ran in an earlier answer, which cannot be placed back around the text it stood beside.", null, "code_execution")
        .Drop("Inline data of an earlier answer, which a Chat assistant message cannot place in its turn.", null, "inline_data");

    private static readonly FieldInventory Message = Chat()
        .Read("role", "tool_call_id", "refusal", "function_call")
        .Read(Chat().Read(GoogleAnswerData, "google"), "extra_content")
        .Read(ContentPart, "content")
        .Read(ToolCall, "tool_calls")
        .Drop("A participant's name; Gemini's turns have none.", null, "name")
        .Refuse("A previous audio answer is kept on OpenAI's side, where Gemini cannot read it.", null, "audio");

    private static readonly FieldInventory Google = Chat().Read("thinking_config", "cached_content");

    private static readonly FieldInventory Request = Chat()
        .Read("model", "stream", "temperature", "top_p", "top_k", "max_tokens", "max_completion_tokens", "stop", "n", "seed",
            "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "response_format", "reasoning_effort", "reasoning",
            "verbosity", "modalities", "audio", "tool_choice", "parallel_tool_calls", "functions", "function_call")
        .Read(Message, "messages")
        .Read(Tool, "tools")
        .Read(Chat().Read("include_usage").Drop("Padding against length side channels, which the gateway's stream does not add.", value => value.ValueKind == JsonValueKind.True, "include_obfuscation"), "stream_options")
        .Read(Chat().Drop("A hint for OpenAI's search; Google Search takes none.", null, "search_context_size", "user_location"), "web_search_options")
        .Read(Chat().Read(Google, "google"), "extra_body")
        .Read(Google, "google")
        .Drop("It identifies the end user to OpenAI's abuse monitoring; Gemini has no such field.", null, "user", "safety_identifier")
        .Drop("Tags for OpenAI's stored completions; nothing is stored.", null, "metadata")
        .Drop("It asks OpenAI to store the completion; Gemini stores nothing.", value => value.ValueKind == JsonValueKind.True, "store")
        .Drop("A processing tier of OpenAI's.", value => value.ValueKind == JsonValueKind.String && !value.ValueEquals("auto"u8) && !value.ValueEquals("default"u8), "service_tier")
        .Drop("OpenAI's prompt-cache routing; Gemini caches repeated prefixes on its own.", null, "prompt_cache_key", "prompt_cache_retention")
        .Drop("A predicted output speeds up OpenAI's decoding and does not change the answer.", null, "prediction")
        .Refuse("Gemini cannot bias token probabilities: the answer would not be the one asked for.", null, "logit_bias");

    /// <summary>Drops and reports the fields Gemini has no place for and refuses those it cannot honour; the translator reads the rest.</summary>
    public static void Check(JsonElement request, DroppedFields dropped) => Request.Check(request, null, dropped);

    private static FieldInventory Chat() => new(UnknownFieldPolicy.Drop, NotInChat);
}
