namespace MixProxy.Translation.Chat;

/// <summary>Where a Chat Completions request goes on an OpenAI-compatible upstream.</summary>
public static class ChatEndpoint
{
    public const string Path = "/v1/chat/completions";
}
