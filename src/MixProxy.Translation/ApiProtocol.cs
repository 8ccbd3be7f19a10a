namespace MixProxy.Translation;

/// <summary>The wire protocols MixProxy speaks, on either side of the gateway.</summary>
public enum ApiProtocol
{
    /// <summary>OpenAI Chat Completions (<c>POST /v1/chat/completions</c>).</summary>
    OpenAIChat,

    /// <summary>Google Gemini <c>generateContent</c> / <c>streamGenerateContent</c>.</summary>
    Gemini,
}
