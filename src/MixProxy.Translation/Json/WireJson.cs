using System.Text.Encodings.Web;
using System.Text.Json;

namespace MixProxy.Translation.Json;

/// <summary>
/// How every body MixProxy writes is encoded: compact, and with non-ASCII text and characters such as
/// <c>'</c> or <c>&lt;</c> written as themselves. These bodies are JSON over HTTP, never inlined into HTML,
/// so HTML-safe escaping would only make them larger and harder to read.
/// </summary>
public static class WireJson
{
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };
}
