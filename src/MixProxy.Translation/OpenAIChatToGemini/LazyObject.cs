using System.Text.Json;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>An object property written only once something goes into it.</summary>
internal sealed class LazyObject(Utf8JsonWriter writer, string name)
{
    private bool _started;

    public Utf8JsonWriter Writer => writer;

    public Utf8JsonWriter Start()
    {
        if (!_started)
        {
            writer.WritePropertyName(name);
            writer.WriteStartObject();
            _started = true;
        }

        return writer;
    }

    public void End()
    {
        if (_started)
        {
            writer.WriteEndObject();
        }
    }
}
