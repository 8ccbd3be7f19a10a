using System.Buffers;
using System.Text.Json;

namespace MixProxy.Translation.Json;

/// <summary>Model listings in each protocol's shape (<c>GET /v1/models</c>, <c>GET /v1beta/models</c>).</summary>
public static class ModelCatalogWriter
{
    public static void WriteList(ApiProtocol protocol, IEnumerable<string> models, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(models);
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        writer.WriteStartObject();
        if (protocol == ApiProtocol.Gemini)
        {
            writer.WritePropertyName("models"u8);
            writer.WriteStartArray();
            foreach (var model in models)
            {
                WriteGoogleModel(writer, model);
            }

            writer.WriteEndArray();
        }
        else
        {
            writer.WriteString("object"u8, "list");
            writer.WritePropertyName("data"u8);
            writer.WriteStartArray();
            foreach (var model in models)
            {
                WriteOpenAIModel(writer, model);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    public static void WriteOne(ApiProtocol protocol, string model, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, WireJson.WriterOptions);
        if (protocol == ApiProtocol.Gemini)
        {
            WriteGoogleModel(writer, model);
        }
        else
        {
            WriteOpenAIModel(writer, model);
        }
    }

    private static void WriteOpenAIModel(Utf8JsonWriter writer, string model)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, model);
        writer.WriteString("object"u8, "model");
        writer.WriteNumber("created"u8, 0);
        writer.WriteString("owned_by"u8, "mixproxy");
        writer.WriteEndObject();
    }

    private static void WriteGoogleModel(Utf8JsonWriter writer, string model)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, "models/" + model);
        writer.WriteString("displayName"u8, model);
        writer.WritePropertyName("supportedGenerationMethods"u8);
        writer.WriteStartArray();
        writer.WriteStringValue("generateContent");
        writer.WriteStringValue("streamGenerateContent");
        writer.WriteStringValue("countTokens");
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
