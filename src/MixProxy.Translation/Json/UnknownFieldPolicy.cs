namespace MixProxy.Translation.Json;

/// <summary>What a <see cref="FieldInventory"/> does with a member it does not list.</summary>
internal enum UnknownFieldPolicy
{
    /// <summary>A 400 naming it: the protocol itself refuses unknown fields (Google's APIs do).</summary>
    Refuse,

    /// <summary>Dropped and reported: the protocol's clients commonly send other providers' extras.</summary>
    Drop,
}
