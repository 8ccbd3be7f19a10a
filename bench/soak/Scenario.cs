namespace MixProxy.Soak;

/// <summary>One kind of client request the soak sends: its client API, model, whether it streams, and whether the gateway translates it.</summary>
internal sealed record Scenario(string Name, string Path, string Body, bool Stream, ClientApi Api)
{
    private const string Prompt = "Write two sentences about the soak test.";

    public static IReadOnlyList<Scenario> All { get; } =
    [
        Chat("chat passthrough", "gpt-bench", stream: false),
        Chat("chat passthrough stream", "gpt-bench", stream: true),
        Chat("chat -> gemini", "gemini-bench", stream: false),
        Chat("chat -> gemini stream", "gemini-bench", stream: true),
        Gemini("gemini passthrough", "gemini-bench", stream: false),
        Gemini("gemini passthrough stream", "gemini-bench", stream: true),
        Gemini("gemini -> chat", "gpt-bench", stream: false),
        Gemini("gemini -> chat stream", "gpt-bench", stream: true),
        Responses("responses -> chat", "gpt-bench", stream: false),
        Responses("responses -> chat stream", "gpt-bench", stream: true),
        Responses("responses -> gemini", "gemini-bench", stream: false),
        Responses("responses -> gemini stream", "gemini-bench", stream: true),
        Anthropic("anthropic -> chat", "gpt-bench", stream: false),
        Anthropic("anthropic -> chat stream", "gpt-bench", stream: true),
        Anthropic("anthropic -> gemini", "gemini-bench", stream: false),
        Anthropic("anthropic -> gemini stream", "gemini-bench", stream: true),
    ];

    /// <summary>The same request for the model of the same protocol on another cluster (gpt-bench → gpt-faulty).</summary>
    public Scenario OnLane(string lane) => this with { Path = Path.Replace("-bench", "-" + lane, StringComparison.Ordinal), Body = Body.Replace("-bench", "-" + lane, StringComparison.Ordinal) };

    public static Scenario Chat(string name, string model, bool stream) =>
        new(name, "/v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{Prompt}}"}],"max_tokens":64{{(stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}" : "")}}}""", stream, ClientApi.Chat);

    public static Scenario Gemini(string name, string model, bool stream) =>
        new(name, $"/v1beta/models/{model}:{(stream ? "streamGenerateContent?alt=sse" : "generateContent")}", """{"contents":[{"role":"user","parts":[{"text":"Write two sentences about the soak test."}]}],"generationConfig":{"maxOutputTokens":64}}""", stream, ClientApi.Gemini);

    public static Scenario Anthropic(string name, string model, bool stream) =>
        new(name, "/v1/messages", $$"""{"model":"{{model}}","max_tokens":64,"messages":[{"role":"user","content":"{{Prompt}}"}],"stream":{{(stream ? "true" : "false")}}}""", stream, ClientApi.Anthropic);

    public static Scenario Responses(string name, string model, bool stream) =>
        new(name, "/v1/responses", $$"""{"model":"{{model}}","input":"{{Prompt}}","max_output_tokens":64,"store":false,"stream":{{(stream ? "true" : "false")}}}""", stream, ClientApi.Responses);
}

/// <summary>The client API a scenario speaks, which decides how its answer is read (terminator, error events, usage).</summary>
internal enum ClientApi
{
    Chat,
    Gemini,
    Responses,
    Anthropic,
}
