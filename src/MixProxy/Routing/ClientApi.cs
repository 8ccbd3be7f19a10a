using MixProxy.Translation;
using MixProxy.Translation.Gemini;

namespace MixProxy.Routing;

/// <summary>The client-facing operation a route serves, named in route metadata <c>MixProxy.Api</c>.</summary>
internal enum ClientApi
{
    OpenAIChat,
    GeminiGenerateContent,
    GeminiStreamGenerateContent,
    GeminiCountTokens,
}

internal static class ClientApiExtensions
{
    public static ApiProtocol Protocol(this ClientApi api) => api == ClientApi.OpenAIChat ? ApiProtocol.OpenAIChat : ApiProtocol.Gemini;

    /// <summary>The Gemini method name in the URL (<c>models/{model}:{method}</c>).</summary>
    public static string GeminiMethod(this ClientApi api) => api switch
    {
        ClientApi.GeminiStreamGenerateContent => GeminiEndpoint.StreamGenerateContent,
        ClientApi.GeminiCountTokens => GeminiEndpoint.CountTokens,
        _ => GeminiEndpoint.GenerateContent,
    };
}

/// <summary>What a route asks of the gateway, parsed from its metadata once per config generation.</summary>
internal sealed record RouteSettings(ClientApi Api, bool OutputText, bool Cache = false, TimeSpan? CacheTtl = null)
{
    public static readonly TimeSpan DefaultCacheTtl = TimeSpan.FromMinutes(5);
}
