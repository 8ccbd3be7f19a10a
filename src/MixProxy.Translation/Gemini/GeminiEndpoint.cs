namespace MixProxy.Translation.Gemini;

/// <summary>Where a Gemini request goes: <c>/{version}/models/{model}:{method}</c>, and the query that makes a stream SSE.</summary>
public static class GeminiEndpoint
{
    public const string GenerateContent = "generateContent";
    public const string StreamGenerateContent = "streamGenerateContent";
    public const string CountTokens = "countTokens";

    /// <summary>The query parameter and value that ask for SSE; without it Gemini streams one JSON array.</summary>
    public static readonly (string Name, string Value) SseQuery = ("alt", "sse");

    /// <summary>The upstream path; the model is escaped so that no name can reach another path (<c>../</c>, <c>/</c>, <c>?</c>).</summary>
    public static string Path(string model, string method, string version = "v1beta") => $"/{version}/models/{Uri.EscapeDataString(model)}:{method}";
}
