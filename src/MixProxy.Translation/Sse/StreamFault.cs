namespace MixProxy.Translation.Sse;

/// <summary>Why <see cref="TranslatingSseStream"/> ends a client's stream with an error event of its own.</summary>
public enum StreamFault
{
    /// <summary>The translator itself failed: a gateway bug, recorded as <see cref="Protocols.ExchangeOutcome.TranslationFault"/>.</summary>
    Translator,

    /// <summary>
    /// The upstream's connection broke off after the client had part of the answer, recorded as
    /// <see cref="Protocols.ExchangeOutcome.UpstreamFault"/>. Not the gateway's bug, and too late to retry or to answer
    /// with an error status.
    /// </summary>
    Upstream,
}
