using System.Buffers;
using System.Text.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChat;

/// <summary>
/// The step every client API served through Chat Completions shares (the Responses API, Anthropic Messages): a Chat
/// request its translator wrote is handed to the Chat client's own exchange for the upstream, and that call's upstream
/// request becomes the bridge's. Refusals on the Chat side name the client's own field, not one it never wrote.
/// </summary>
internal static class ChatBridge
{
    private static readonly KeyValuePair<string, string>[] NoQuery = [];

    /// <summary>
    /// Begins <paramref name="chat"/>'s call for <paramref name="chatBody"/> (a Chat Completions request written for
    /// <paramref name="request"/>). Returns that call and the upstream request to send: the Chat call's, with the Chat
    /// body, path and no query where the Chat side would keep "the client's", which here is not the client's own.
    /// </summary>
    /// <param name="chat">The Chat client's exchange for the upstream.</param>
    /// <param name="request">The client's own request (model, stream, output cap).</param>
    /// <param name="chatBody">The Chat Completions body written for it.</param>
    /// <param name="settings">The attempt's settings, as the host gave them to the bridge.</param>
    /// <param name="clientParam">The client's name for a Chat field, for refusals.</param>
    public static (ExchangeCall Inner, UpstreamRequest Upstream) Begin(Exchange chat, ClientRequest request, ArrayBufferWriter<byte> chatBody, ExchangeSettings settings, Func<string?, string?> clientParam)
    {
        ExchangeCall inner;
        var chatDocument = JsonDocument.Parse(chatBody.WrittenMemory);
        try
        {
            var chatRequest = new ClientRequest
            {
                Endpoint = OpenAIChatClientApi.Instance.Chat,
                Model = request.Model,
                Stream = request.Stream,
                WantsStreamUsage = request.Stream,
                MaxOutputTokens = request.MaxOutputTokens,
                BodyBytes = chatBody.WrittenCount,
                Body = chatBody.WrittenMemory,
                Document = chatDocument,
                BodyRead = true,
            };

            // output.text has no place in a Chat body that is only read again by the bridge.
            inner = chat.Begin(chatRequest, settings with { OutputText = false, PriorResult = null });
        }
        catch (TranslationException e)
        {
            throw new TranslationException(
                clientParam(e.Param),
                $"{e.Message} (This request is served through Chat Completions; that form of it was refused{(e.Param is null ? string.Empty : $" at '{e.Param}'")}.)",
                e.StatusCode);
        }
        finally
        {
            chatDocument.Dispose();
        }

        var upstream = inner.Request;
        var translated = new UpstreamRequest(upstream.Body ?? chatBody.WrittenMemory, upstream.Path ?? OpenAIChatVocabulary.ChatCompletionsPath, upstream.Query ?? NoQuery, upstream.Headers);
        inner.ReleaseRequest();
        return (inner, translated);
    }
}
