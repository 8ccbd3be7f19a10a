using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>Chat Completions → Gemini: image, audio and file parts become <c>inlineData</c> (data: URIs) or <c>fileData</c> (URLs Gemini fetches itself), with <c>detail</c> as a media resolution.</summary>
internal static class ChatMedia
{
    internal static void WriteMediaUrlPart(Utf8JsonWriter writer, JsonElement part, string param, UpstreamModelProfile profile)
    {
        if (!part.TryGetProperty("image_url", out var imageUrl))
        {
            throw new TranslationException(param, "'image_url' part needs an 'image_url' object.");
        }

        var url = imageUrl.ValueKind switch
        {
            JsonValueKind.String => imageUrl.GetString(),
            JsonValueKind.Object when imageUrl.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String => u.GetString(),
            _ => null,
        };
        if (string.IsNullOrEmpty(url))
        {
            throw new TranslationException(param + ".image_url.url", "'image_url.url' is required.");
        }

        var resolution = MediaResolutionFor(imageUrl, param + ".image_url.detail");
        WriteUrlAsPart(writer, url, param + ".image_url.url", defaultMime: null, profile.SupportsPartMediaResolution ? resolution : null);
    }

    /// <summary>
    /// <c>detail</c> as a Gemini media resolution: <c>low</c> and <c>high</c> have direct equivalents, <c>auto</c>
    /// (or nothing) leaves the model's default; any other value is refused, as OpenAI refuses it.
    /// </summary>
    internal static string? MediaResolutionFor(JsonElement imageUrl, string param)
    {
        if (imageUrl.ValueKind != JsonValueKind.Object || !imageUrl.TryGetProperty("detail", out var detail) || detail.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return (detail.ValueKind == JsonValueKind.String ? detail.GetString() : null) switch
        {
            "low" => "MEDIA_RESOLUTION_LOW",
            "high" => "MEDIA_RESOLUTION_HIGH",
            "auto" => null,
            _ => throw new TranslationException(param, "'detail' must be 'low', 'high' or 'auto'."),
        };
    }

    internal static void WriteUrlAsPart(Utf8JsonWriter writer, string url, string param, string? defaultMime, string? mediaResolution = null)
    {
        if (url.StartsWith("data:", StringComparison.Ordinal))
        {
            var (mime, data) = ParseDataUri(url, param);
            writer.WriteStartObject();
            writer.WritePropertyName("inlineData"u8);
            writer.WriteStartObject();
            writer.WriteString("mimeType"u8, mime);
            writer.WriteString("data"u8, data);
            writer.WriteEndObject();
            WriteMediaResolution(writer, mediaResolution);
            writer.WriteEndObject();
            return;
        }

        if (IsYouTubeVideo(url))
        {
            // Gemini fetches YouTube videos itself and takes them without a media type.
            writer.WriteStartObject();
            writer.WritePropertyName("fileData"u8);
            writer.WriteStartObject();
            writer.WriteString("fileUri"u8, url);
            writer.WriteEndObject();
            WriteMediaResolution(writer, mediaResolution);
            writer.WriteEndObject();
            return;
        }

        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("gs://", StringComparison.Ordinal))
        {
            // fileData.mimeType is optional in the Gemini API reference: a URL whose type its extension does not tell
            // (an image service's ?id=42, a Files API URI) goes without one, and Gemini reads the type where it
            // fetches it, as for YouTube links.
            var mime = MimeFromExtension(url) ?? defaultMime;
            writer.WriteStartObject();
            writer.WritePropertyName("fileData"u8);
            writer.WriteStartObject();
            if (mime is not null)
            {
                writer.WriteString("mimeType"u8, mime);
            }

            writer.WriteString("fileUri"u8, url);
            writer.WriteEndObject();
            WriteMediaResolution(writer, mediaResolution);
            writer.WriteEndObject();
            return;
        }

        throw new TranslationException(param, "Only data:, http(s):// and gs:// URLs can be sent to a Gemini model.");
    }

    internal static bool IsYouTubeVideo(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
        && uri.Host is "www.youtube.com" or "youtube.com" or "m.youtube.com" or "youtu.be";

    internal static void WriteMediaResolution(Utf8JsonWriter writer, string? level)
    {
        if (level is not null)
        {
            writer.WritePropertyName("mediaResolution"u8);
            writer.WriteStartObject();
            writer.WriteString("level"u8, level);
            writer.WriteEndObject();
        }
    }

    internal static (string Mime, string Data) ParseDataUri(string uri, string param)
    {
        // data:<mime>;base64,<payload>
        var comma = uri.IndexOf(',', StringComparison.Ordinal);
        var header = comma > 5 ? uri.AsSpan(5, comma - 5) : default;
        if (comma < 0 || !header.EndsWith(";base64", StringComparison.Ordinal) || header.Length <= ";base64".Length)
        {
            throw new TranslationException(param, "A data: URI must look like data:<mime-type>;base64,<data>.");
        }

        return (header[..^";base64".Length].ToString(), uri[(comma + 1)..]);
    }

    internal static string? MimeFromExtension(string url)
    {
        var path = url.Split('?', '#')[0];
        var dot = path.LastIndexOf('.');
        if (dot < 0 || dot < path.LastIndexOf('/'))
        {
            return null;
        }

        return path[(dot + 1)..].ToLowerInvariant() switch
        {
            "png" => "image/png",
            "jpg" or "jpeg" => "image/jpeg",
            "webp" => "image/webp",
            "gif" => "image/gif",
            "heic" => "image/heic",
            "pdf" => "application/pdf",
            "wav" => "audio/wav",
            "mp3" => "audio/mp3",
            "flac" => "audio/flac",
            "ogg" => "audio/ogg",
            "mp4" => "video/mp4",
            "txt" => "text/plain",
            _ => null,
        };
    }

    internal static void WriteAudioPart(Utf8JsonWriter writer, JsonElement part, string param)
    {
        if (!part.TryGetProperty("input_audio", out var audio) || audio.ValueKind != JsonValueKind.Object
            || !audio.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.String
            || !audio.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String)
        {
            throw new TranslationException(param + ".input_audio", "'input_audio' needs 'data' and 'format'.");
        }

        writer.WriteStartObject();
        writer.WritePropertyName("inlineData"u8);
        writer.WriteStartObject();
        writer.WriteString("mimeType"u8, "audio/" + format.GetString()!.ToLowerInvariant());
        writer.WriteString("data"u8, data.GetString());
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>
    /// The media type of raw base64 <c>file_data</c> (not a data: URI): the one its <c>filename</c>'s extension tells,
    /// or PDF when it has no name, as OpenAI's file inputs were PDFs. A named file of a type the gateway cannot tell is
    /// refused: labelling <c>notes.txt</c> a PDF would have Gemini reject it, or misread it.
    /// </summary>
    internal static string RawFileType(JsonElement file, string param)
    {
        if (ClientFields.OptionalString(file, "filename", param + ".file") is not { Length: > 0 } filename)
        {
            return "application/pdf";
        }

        return MimeFromExtension(filename)
            ?? throw new TranslationException(param + ".file.filename", $"Cannot tell the media type of '{filename}' from its extension; send 'file_data' as a data: URI with its media type (data:<mime-type>;base64,<data>).");
    }

    internal static void WriteFilePart(Utf8JsonWriter writer, JsonElement part, string param)
    {
        if (!part.TryGetProperty("file", out var file) || file.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException(param + ".file", "'file' part needs a 'file' object.");
        }

        if (ClientFields.OptionalString(file, "file_data", param + ".file") is { Length: > 0 } dataUri)
        {
            WriteUrlAsPart(writer, dataUri.StartsWith("data:", StringComparison.Ordinal) ? dataUri : $"data:{RawFileType(file, param)};base64,{dataUri}", param + ".file.file_data", null);
            return;
        }

        if (ClientFields.OptionalString(file, "file_id", param + ".file") is { Length: > 0 } id)
        {
            var format = ClientFields.OptionalString(file, "format", param + ".file");
            WriteUrlAsPart(writer, id, param + ".file.file_id", format);
            return;
        }

        throw new TranslationException(param + ".file", "'file' needs 'file_data' or 'file_id'.");
    }
}
