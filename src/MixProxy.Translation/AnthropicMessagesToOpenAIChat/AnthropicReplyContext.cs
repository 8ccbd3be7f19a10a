namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>What the response side of the bridge must know about the request it answers.</summary>
internal sealed record AnthropicReplyContext
{
    /// <summary>The message id the client gets (<c>msg_…</c>).</summary>
    public required string MessageId { get; init; }

    /// <summary>The model name the client asked for; echoed back so aliases stay invisible.</summary>
    public required string ClientModel { get; init; }

    /// <summary>The client turned thinking on: thought text and signatures go in <c>thinking</c> blocks.</summary>
    public bool ShowsThinking { get; init; }
}
