using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace MixProxy.Translation.Tests.Fuzz;

/// <summary>
/// A valid conversation, independent of any protocol: an optional system text, then turns of a user text and the
/// model's answer (a text, or function calls that the next turn's results answer). Each protocol row writes it its
/// way and reads back what a translation promises to keep (<see cref="Fact"/>s).
/// </summary>
internal sealed record Conversation(string? System, IReadOnlyList<Turn> Turns)
{
    public static readonly Gen<JsonObject> Arguments = Gen.Select(JsonGen.Name, JsonGen.Value(["city", "days", "units", "query"])).Array[0, 3].Select(pairs =>
    {
        var args = new JsonObject();
        foreach (var (key, value) in pairs)
        {
            args[key] = value?.DeepClone();
        }

        return args;
    });

    public static readonly Gen<Conversation> Any = Gen.Select(
        Gen.Frequency((1, Gen.Const((string?)null)), (1, JsonGen.Text.Select(t => (string?)t))),
        Gen.Select(
            JsonGen.Text,
            Gen.Frequency(
                (2, JsonGen.Text.Select(text => new Answer(text, []))),
                (1, Gen.Select(JsonGen.Name, Arguments).Array[1, 2].Select(calls => new Answer(null, [.. calls.Select((c, i) => new Call($"{c.Item1}{i}", c.Item2))])))),
            (user, answer) => new Turn(user, answer)).Array[1, 4],
        (system, turns) => new Conversation(system, turns));

    /// <summary>What a translation keeps, in order: texts by who said them, and each call's name and arguments.</summary>
    public IReadOnlyList<string> Facts()
    {
        var facts = new List<string>();
        if (System is not null)
        {
            facts.Add(Fact.Text("system", System));
        }

        foreach (var turn in Turns)
        {
            facts.Add(Fact.Text("user", turn.User));
            if (turn.Answer.Text is { } text)
            {
                facts.Add(Fact.Text("model", text));
            }

            facts.AddRange(turn.Answer.Calls.Select(call => Fact.Call(call.Name, call.Arguments)));
        }

        return facts;
    }

    public override string ToString() => JsonSerializer.Serialize(this);
}

/// <summary>One turn: the user's text and the model's answer.</summary>
internal sealed record Turn(string User, Answer Answer);

/// <summary>The model's answer: a text, or function calls.</summary>
internal sealed record Answer(string? Text, IReadOnlyList<Call> Calls);

/// <summary>One function call with its arguments.</summary>
internal sealed record Call(string Name, JsonObject Arguments);

/// <summary>The facts of <see cref="Conversation.Facts"/>, spelled the same whichever protocol they were read from.</summary>
internal static class Fact
{
    public static string Text(string who, string text) => $"{who}: {JsonSerializer.Serialize(text)}";

    public static string Call(string name, JsonNode? arguments) => $"call {name}: {Canonical(arguments)}";

    /// <summary>A JSON value written one way whatever its spelling: keys sorted, numbers by value.</summary>
    public static string Canonical(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Key) + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture),
        _ => node.ToJsonString(),
    };
}
