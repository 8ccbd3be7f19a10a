using System.Text;
using System.Text.Json;
using System.Runtime.InteropServices;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.Json;

/// <summary>
/// Every member of one kind of JSON object in a client's request, and what a translator does with it: reads it,
/// drops and reports it, or refuses it (docs/translation.md, "Refused, dropped and reported, or mapped"). A request
/// is walked once against its protocol's inventory before it is translated, so no field the translator does not read
/// is left out silently: a member the inventory does not list is refused or dropped per <see cref="Unknown"/>.
/// Types are not checked here; the translator checks each value where it reads it. An upstream's answer is walked the
/// same way (<see cref="CheckAnswer"/>), on every answer and stream event, without allocating unless it reports.
/// </summary>
internal sealed class FieldInventory
{
    private readonly Dictionary<string, InventoryField> _fields = new(StringComparer.Ordinal);

    // An answer inventory's place (array positions left out), fixed once by Freeze: answers are walked per stream
    // event, so the names they report are not built along the way.
    private string? _path;
    private bool _frozen;

    /// <param name="unknown">What happens to a member the inventory does not list.</param>
    /// <param name="unknownWhy">Why, for the refusal or the report; <c>{0}</c> is the member's name.</param>
    public FieldInventory(UnknownFieldPolicy unknown, string unknownWhy)
    {
        Unknown = unknown;
        UnknownWhy = unknownWhy;
    }

    public UnknownFieldPolicy Unknown { get; }

    public string UnknownWhy { get; }

    /// <summary>Members the translator reads; an object value (or each object in an array value) is checked against <paramref name="each"/>.</summary>
    public FieldInventory Read(FieldInventory? each, params string[] names) => Add(new InventoryField(InventoryAction.Read, each, null, null), names);

    /// <summary>Members the translator reads, whose values it checks itself.</summary>
    public FieldInventory Read(params string[] names) => Read(null, names);

    /// <summary>
    /// Members the translator reads whose value is a list of objects checked against <paramref name="each"/>: as
    /// <see cref="Read(FieldInventory?, string[])"/>, and an answer names what it reports in them with <c>[]</c>.
    /// </summary>
    public FieldInventory ReadList(FieldInventory each, params string[] names) => Add(new InventoryField(InventoryAction.Read, each, null, null, IsList: true), names);

    /// <summary>
    /// Members the upstream has no place for and that do not change the question: dropped and reported when
    /// <paramref name="matters"/> says the value asks for something (by default: anything but null, false, "" and empty
    /// arrays and objects, which ask for nothing).
    /// </summary>
    public FieldInventory Drop(string why, Func<JsonElement, bool>? matters, params string[] names) => Add(new InventoryField(InventoryAction.Drop, null, why, matters), names);

    /// <summary>Members that would change the answer and cannot be expressed upstream: refused when <paramref name="matters"/>.</summary>
    public FieldInventory Refuse(string why, Func<JsonElement, bool>? matters, params string[] names) => Add(new InventoryField(InventoryAction.Refuse, null, why, matters), names);

    /// <summary>Checks <paramref name="value"/> (an object; anything else is left for the translator to refuse) and, through the members it reads, what they hold.</summary>
    /// <param name="value">The object.</param>
    /// <param name="param">The object's own name in the client's notation; null for the request body.</param>
    /// <param name="dropped">Where dropped members are reported (and a strict model's refusal comes from).</param>
    public void Check(JsonElement value, string? param, DroppedFields dropped)
    {
        ArgumentNullException.ThrowIfNull(dropped);
        if (value.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var member in value.EnumerateObject())
        {
            var name = param is null ? member.Name : param + "." + member.Name;
            if (!TryFind(member, out var field))
            {
                if (Unknown == UnknownFieldPolicy.Refuse)
                {
                    throw new TranslationException(name, string.Format(System.Globalization.CultureInfo.InvariantCulture, UnknownWhy, member.Name));
                }

                if (AsksForSomething(member.Value))
                {
                    dropped.Drop(name, string.Format(System.Globalization.CultureInfo.InvariantCulture, UnknownWhy, member.Name));
                }

                continue;
            }

            switch (field.Action)
            {
                case InventoryAction.Read when field.Each is { } each:
                    CheckNested(each, member.Value, name, dropped);
                    break;
                case InventoryAction.Drop when (field.Matters ?? AsksForSomething)(member.Value):
                    dropped.Drop(name, field.Why!);
                    break;
                case InventoryAction.Refuse when (field.Matters ?? AsksForSomething)(member.Value):
                    throw new TranslationException(name, field.Why!);
            }
        }
    }

    /// <summary>
    /// Fixes this answer inventory's names (and its nested ones'): each object of it stands at one place of the
    /// answer. Called once, when the inventory is built; an object listed at two places is a bug.
    /// </summary>
    public FieldInventory Freeze() => Freeze(null);

    /// <summary>
    /// Reports to <paramref name="outcome"/> each member of the upstream's answer <paramref name="value"/> the
    /// client's answer goes without (listed as dropped, or not listed, when it carries something), named with array
    /// positions left out. A frozen inventory only; allocates nothing unless it reports.
    /// </summary>
    public void CheckAnswer(JsonElement value, ExchangeOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (!_frozen)
        {
            throw new InvalidOperationException("An answer inventory is walked once frozen.");
        }

        WalkAnswer(value, _path, outcome);
    }

    private void WalkAnswer(JsonElement value, string? path, ExchangeOutcome outcome)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var member in value.EnumerateObject())
        {
            if (!TryFind(member, out var field))
            {
                if (AsksForSomething(member.Value))
                {
                    outcome.DropAnswerField(path is null ? member.Name : path + "." + member.Name);
                }

                continue;
            }

            switch (field.Action)
            {
                case InventoryAction.Read when field.Each is { } each && member.Value.ValueKind == JsonValueKind.Object:
                    each.WalkAnswer(member.Value, each._path, outcome);
                    break;
                case InventoryAction.Read when field.Each is { } each && member.Value.ValueKind == JsonValueKind.Array:
                    foreach (var item in member.Value.EnumerateArray())
                    {
                        each.WalkAnswer(item, each._path, outcome);
                    }

                    break;
                case InventoryAction.Drop or InventoryAction.Refuse when (field.Matters ?? AsksForSomething)(member.Value):
                    // An answer cannot be refused (the upstream answered): what has no place is reported.
                    outcome.DropAnswerField(path is null ? member.Name : path + "." + member.Name);
                    break;
            }
        }
    }

    private FieldInventory Freeze(string? path)
    {
        if (_frozen)
        {
            throw new InvalidOperationException($"An answer inventory object is listed at two places ('{_path}' and '{path}').");
        }

        _frozen = true;
        _path = path;
        foreach (var (name, field) in _fields)
        {
            field.Each?.Freeze((path is null ? name : path + "." + name) + (field.IsList ? "[]" : string.Empty));
        }

        return this;
    }

    /// <summary>
    /// The listing of <paramref name="member"/>, found by its UTF-8 name where it can be (short, unescaped: every
    /// name a protocol defines), so that the common case reads no name into a string.
    /// </summary>
    private bool TryFind(JsonProperty member, out InventoryField field)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(member);
        if (raw.Length <= 64 && !raw.Contains((byte)'\\'))
        {
            Span<char> chars = stackalloc char[64];
            if (Encoding.UTF8.TryGetChars(raw, chars, out var count))
            {
                return _fields.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars[..count], out field!);
            }
        }

        return _fields.TryGetValue(member.Name, out field!);
    }

    /// <summary>Anything but null, false, an empty string and an empty array or object.</summary>
    public static bool AsksForSomething(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.False or JsonValueKind.Undefined => false,
        JsonValueKind.String => !value.ValueEquals(""u8),
        JsonValueKind.Array => value.GetArrayLength() > 0,
        JsonValueKind.Object => value.EnumerateObject().Any(),
        _ => true,
    };

    private static void CheckNested(FieldInventory each, JsonElement value, string name, DroppedFields dropped)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            each.Check(value, name, dropped);
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                each.Check(item, $"{name}[{i++}]", dropped);
            }
        }
    }

    private FieldInventory Add(InventoryField field, string[] names)
    {
        foreach (var name in names)
        {
            if (!_fields.TryAdd(name, field))
            {
                throw new ArgumentException($"'{name}' is listed twice.", nameof(names));
            }
        }

        return this;
    }

    private enum InventoryAction
    {
        Read,
        Drop,
        Refuse,
    }

    private sealed record InventoryField(InventoryAction Action, FieldInventory? Each, string? Why, Func<JsonElement, bool>? Matters, bool IsList = false);
}
