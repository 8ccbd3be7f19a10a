namespace MixProxy.Translation.Protocols;

/// <summary>
/// A result the gateway keeps for the client that asked for it (a Responses API response with <c>store</c> on): its id
/// and its record, whose shape only the client API knows. The host stores it per client key and hands it back when a
/// later request continues it, or when the client reads it.
/// </summary>
public sealed record StoredResult(string Id, ReadOnlyMemory<byte> Record);
