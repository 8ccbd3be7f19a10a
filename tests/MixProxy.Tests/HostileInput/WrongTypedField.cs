namespace MixProxy.Tests.HostileInput;

/// <summary>A good body with one field given a value of the wrong JSON type, and the name the 400 must give it.</summary>
/// <param name="Param">The field as the client's protocol names it in an error (<c>messages[0].content</c>).</param>
/// <param name="Body">The body for a model, with the wrong value in place.</param>
internal sealed record WrongTypedField(string Param, Func<string, string> Body)
{
    public override string ToString() => Param;
}
