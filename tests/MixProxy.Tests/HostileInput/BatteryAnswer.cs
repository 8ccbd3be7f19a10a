using System.Text.Json.Nodes;

namespace MixProxy.Tests.HostileInput;

/// <summary>What the gateway answered one battery request: status, media type, text, and the JSON when it is JSON.</summary>
public sealed record BatteryAnswer(int Status, string? MediaType, string Text, JsonNode? Json, HttpResponseMessage Response)
{
    public override string ToString() => $"{Status} {MediaType}: {(Text.Length > 600 ? Text[..600] + "…" : Text)}";
}
