using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIResponsesToOpenAIChat;

/// <summary>
/// The response's <c>extra_content</c>: what a Chat answer carries that Responses has no field for. Chat's
/// <c>message.extra_content</c> (Google's vendor field: search suggestions, code the model ran, URL context, safety
/// ratings, the prompt's feedback…) is kept as it came, and Chat's <c>message.audio</c> goes in <c>audio</c>, since
/// Responses has no audio output. A stream's pieces are gathered into one: lists (code run, inline data) grow, other
/// values take the latest, audio is joined.
/// </summary>
internal sealed class VendorContent
{
    private JsonObject? _content;
    private string? _audioId;
    private List<byte>? _audio;
    private StringBuilder? _transcript;

    public bool IsEmpty => _content is null && _audio is null;

    /// <summary>Adds a Chat message's or delta's <c>extra_content</c> object.</summary>
    public void Merge(JsonElement extraContent)
    {
        if (extraContent.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        _content ??= [];
        foreach (var vendor in extraContent.EnumerateObject())
        {
            if (vendor.Value.ValueKind == JsonValueKind.Object && _content[vendor.Name] is JsonObject known)
            {
                foreach (var member in vendor.Value.EnumerateObject())
                {
                    if (member.Value.ValueKind == JsonValueKind.Array && known[member.Name] is JsonArray list)
                    {
                        foreach (var entry in member.Value.EnumerateArray())
                        {
                            list.Add(JsonNode.Parse(entry.GetRawText()));
                        }
                    }
                    else
                    {
                        known[member.Name] = JsonNode.Parse(member.Value.GetRawText());
                    }
                }
            }
            else
            {
                _content[vendor.Name] = JsonNode.Parse(vendor.Value.GetRawText());
            }
        }
    }

    /// <summary>Keeps a Chat <c>images</c> entry that is not a data URI (a link): an image item's <c>result</c> is base64.</summary>
    public void AddImageLink(JsonElement entry)
    {
        _content ??= [];
        if (_content["images"] is not JsonArray links)
        {
            _content["images"] = links = [];
        }

        links.Add(JsonNode.Parse(entry.GetRawText()));
    }

    /// <summary>Adds a Chat message's <c>audio</c> (or a stream's piece of it): its id, its base64 data, its transcript.</summary>
    /// <exception cref="UpstreamResponseException">The data is not base64.</exception>
    public void AddAudio(JsonElement audio)
    {
        if (audio.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        _audioId ??= UpstreamFields.StringOrNone(UpstreamFields.Field(audio, "id"));
        if (UpstreamFields.StringOrNone(UpstreamFields.Field(audio, "data")) is { Length: > 0 } data)
        {
            // Joined as bytes: each streamed piece is base64 with its own padding, so the texts cannot simply be joined.
            var bytes = new byte[data.Length * 3 / 4 + 3];
            if (!Convert.TryFromBase64String(data, bytes, out var written))
            {
                throw new UpstreamResponseException("The upstream's message.audio.data is not base64.");
            }

            (_audio ??= []).AddRange(bytes.AsSpan(0, written));
        }
        else
        {
            _audio ??= [];
        }

        if (UpstreamFields.StringOrNone(UpstreamFields.Field(audio, "transcript")) is { Length: > 0 } transcript)
        {
            (_transcript ??= new()).Append(transcript);
        }
    }

    /// <summary>Writes <c>extra_content</c> when there is anything to carry.</summary>
    public void Write(Utf8JsonWriter writer)
    {
        if (IsEmpty)
        {
            return;
        }

        writer.WritePropertyName("extra_content"u8);
        writer.WriteStartObject();
        if (_content is not null)
        {
            foreach (var (name, value) in _content)
            {
                writer.WritePropertyName(name);
                if (value is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    value.WriteTo(writer);
                }
            }
        }

        if (_audio is not null)
        {
            writer.WritePropertyName("audio"u8);
            writer.WriteStartObject();
            if (_audioId is not null)
            {
                writer.WriteString("id"u8, _audioId);
            }

            writer.WriteString("data"u8, Convert.ToBase64String(_audio.ToArray()));
            writer.WriteString("transcript"u8, _transcript?.ToString() ?? string.Empty);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }
}
