using System.Buffers;
using System.Text.Json;
using System.Text;
using MixProxy.Translation.Gemini;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChat;
using MixProxy.Translation.Protocols;
using MixProxy.Translation.Sse;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>
/// Translates Gemini SSE events (<c>streamGenerateContent?alt=sse</c>) into OpenAI <c>chat.completion.chunk</c>
/// events, one Gemini event at a time: nothing is held back waiting for later events.
/// One instance per response; not thread-safe.
/// </summary>
public sealed class GeminiToChatStreamTranslator : IStreamEventTranslator
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly ResponseContext _context;
    private readonly ExchangeOutcome _outcome;
    private readonly bool _oneCallPerStep;
    private readonly SortedDictionary<int, ChoiceState> _choices = [];
    private string? _id;
    private TokenUsage? _usage;
    private string? _blockReason;

    // What the response says beside its candidates (model version, prompt feedback), for every choice's finish chunk.
    private readonly GoogleAnswerExtras _responseExtras = new();
    private JsonElement _usageMetadata;
    private bool _ended;

    /// <summary>The stream's usage and the thought signatures it issues go to <paramref name="outcome"/>.</summary>
    /// <remarks>With <c>oneCallPerStep</c> (the client sent <c>parallel_tool_calls: false</c>) each choice's calls after its first are left out.</remarks>
    public GeminiToChatStreamTranslator(ResponseContext context, ExchangeOutcome outcome, bool oneCallPerStep = false)
    {
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _outcome = outcome ?? throw new ArgumentNullException(nameof(outcome));
        _oneCallPerStep = oneCallPerStep;
    }

    /// <summary>True once the stream has been closed, normally or by an error event.</summary>
    public bool IsEnded => _ended;

    public bool Faulted { get; private set; }

    /// <summary>
    /// Every candidate that came finished (a <c>finishReason</c>), or the prompt was blocked (which has none to finish):
    /// a Gemini stream has no other end marker, so one that stops before is cut, not a stop.
    /// </summary>
    public bool AnswerComplete => _blockReason is not null
        || (_choices.Count > 0 && _choices.Values.All(static c => c.Finished || c.PendingFinish is not null));

    /// <summary>Translates one SSE <c>data:</c> payload and appends the resulting OpenAI events to <paramref name="output"/>.</summary>
    public void TranslateEvent(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        if (_ended)
        {
            return;
        }

        var trimmed = TrimAscii(data);
        if (trimmed.IsEmpty)
        {
            return;
        }

        try
        {
            TranslateParsed(trimmed, output);
        }
        catch (UpstreamResponseException)
        {
            // The upstream's fault. Fields are checked before a chunk is written, so every chunk that went out is whole.
            EndWithError(output, "The upstream sent an event of an unexpected shape; the stream was stopped.", "upstream_error", "bad_upstream_response");
        }
    }

    public void WriteFault(IBufferWriter<byte> output, StreamFault fault) =>
        EndWithError(output, fault == StreamFault.Upstream
            ? "The upstream stopped mid-answer; the stream was ended."
            : "The gateway could not translate an upstream event; the stream was stopped.", "server_error", code: null);

    private void EndWithError(IBufferWriter<byte> output, string message, string type, string? code)
    {
        WriteEvent(output, w => OpenAIChatErrors.Write(w, message, type, null, code));
        _ended = true;
        Faulted = true;
    }

    private void TranslateParsed(ReadOnlySpan<byte> trimmed, IBufferWriter<byte> output)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(trimmed);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            // A broken event cannot be skipped safely (it may have carried text or a tool call): say so and stop.
            EndWithError(output, "The upstream sent an event that is not valid JSON; the stream was stopped.", "upstream_error", "bad_upstream_response");
            return;
        }

        using var parsed = document;
        if (!JsonText.IsValid(trimmed))
        {
            throw new UpstreamResponseException("The upstream sent an event whose text is not valid Unicode.");
        }

        var root = UpstreamFields.RequireObject(document.RootElement, "stream event");
        _id ??= GeminiToChatWriting.CompletionId(root);

        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            // An error after the headers went out: tell the client in OpenAI's shape and stop here.
            WriteEvent(output, w => GeminiToChatErrorTranslator.WriteStreamError(w, error));
            _ended = true;
            Faulted = true;
            return;
        }

        if (GeminiUsage.Read(root) is { } usage)
        {
            // Gemini repeats cumulative usage on many chunks: the last one is the total.
            _usage = usage;
            _outcome.Usage = usage;
            _usageMetadata = root.GetProperty(GeminiVocabulary.UsageMetadata).Clone();
        }

        _blockReason ??= GeminiToChatWriting.PromptBlockReason(root);
        _responseExtras.ReadResponse(root);
        GeminiAnswerInventory.Check(root, _outcome);

        if (!root.TryGetProperty("candidates", out var candidates) || candidates.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var position = 0;
        foreach (var candidate in candidates.EnumerateArray())
        {
            UpstreamFields.RequireObject(candidate, "candidate");
            var index = UpstreamFields.Int32(UpstreamFields.Field(candidate, "index"), "candidate index") ?? position;
            position++;
            if (!_choices.TryGetValue(index, out var state))
            {
                state = new ChoiceState();
                _choices.Add(index, state);
            }

            TranslateCandidate(candidate, index, state, output);
        }
    }

    /// <summary>Closes the stream: finish chunks for choices the upstream left open, the usage chunk, and <c>[DONE]</c>.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        if (_choices.Count == 0)
        {
            _choices.Add(0, new ChoiceState());
        }

        foreach (var (index, state) in _choices)
        {
            if (state.PendingFinish is { } pending)
            {
                FinishChoice(output, index, state, GeminiToChatWriting.MapFinishReason(pending, state.SawToolCall), pending);
            }
            else if (!state.Finished)
            {
                var blocked = _blockReason is not null && !state.RoleSent;
                FinishChoice(output, index, state, blocked ? "content_filter" : state.SawToolCall ? "tool_calls" : "stop", blocked ? _blockReason : null);
            }
        }

        if (_context.IncludeUsage && _usage is { } usage)
        {
            WriteEvent(output, w =>
            {
                WriteChunkHeader(w);
                w.WritePropertyName("choices"u8);
                w.WriteStartArray();
                w.WriteEndArray();
                w.WritePropertyName("usage"u8);
                GeminiToChatWriting.WriteUsage(w, usage, _usageMetadata);
                w.WriteEndObject();
            });
        }

        output.Write(Done);
    }

    private void TranslateCandidate(JsonElement candidate, int index, ChoiceState state, IBufferWriter<byte> output)
    {
        StringBuilder? text = null;
        StringBuilder? reasoning = null;
        List<(JsonElement Call, JsonElement Part)>? calls = null;
        List<(string? MimeType, string Data)>? images = null;
        List<string>? audio = null;
        GoogleAnswerExtras? extras = null;
        if (candidate.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object
            && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
        {
            // Every part counts: a chunk can carry text and a function call together.
            foreach (var part in parts.EnumerateArray())
            {
                // A signature on a part other than a call (often an empty text part at the end) rides on the finish chunk.
                if (!UpstreamFields.RequireObject(part, "part").TryGetProperty("functionCall", out _))
                {
                    state.FinishExtras.ReadTextSignature(part);
                }

                if (part.TryGetProperty("functionCall", out var call) && call.ValueKind == JsonValueKind.Object)
                {
                    GeminiToChatWriting.CheckFunctionCall(call);
                    if (!_oneCallPerStep || (calls is null && !state.SawToolCall))
                    {
                        (calls ??= []).Add((call, part));
                    }
                }
                else if (part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } s)
                {
                    var isThought = part.TryGetProperty("thought", out var thought) && thought.ValueKind == JsonValueKind.True;
                    if (!isThought && state.CodeAfterText)
                    {
                        // Code the model ran stood between this text and the last: a paragraph break keeps them apart.
                        (text ??= new()).Append(GeminiToChatResponseTranslator.CodeSeparator);
                        state.CodeAfterText = false;
                    }

                    (isThought ? reasoning ??= new() : text ??= new()).Append(s);
                }
                else if ((extras ??= new()).TryAddCode(part))
                {
                    state.CodeAfterText |= state.TextSent || text is not null;
                }
                else if (GeminiToChatWriting.TryReadInlineData(part, out var mimeType, out var data))
                {
                    if (GeminiToChatWriting.IsImage(mimeType))
                    {
                        (images ??= []).Add((mimeType, data));
                    }
                    else if (GeminiToChatWriting.IsAudio(mimeType) && (state.AudioMimeType is null || state.AudioMimeType == mimeType))
                    {
                        if (state.AudioMimeType is null)
                        {
                            state.AudioMimeType = mimeType;
                            extras.AudioMimeType = mimeType;
                        }

                        (audio ??= []).Add(data);
                    }
                    else
                    {
                        extras.AddInlineData(mimeType, data);
                    }
                }
            }
        }

        if (extras is { IsEmpty: true })
        {
            extras = null;
        }

        // What the finish chunk carries, from whichever events bring it.
        state.FinishExtras.ReadUrlContext(candidate);
        state.FinishExtras.ReadCandidateMetadata(candidate);
        if (UpstreamFields.StringOrNone(UpstreamFields.Field(candidate, "finishMessage")) is { } finishMessage)
        {
            state.FinishExtras.FinishMessage = finishMessage;
        }

        if (_context.SearchGrounding)
        {
            if (text is not null)
            {
                (state.Text ??= new()).Append(text);
            }

            GroundingAnnotations.Read(candidate, state.Sources ??= [], state.Supports ??= []);
            state.FinishExtras.Suggestions.Read(candidate);
        }

        // Joined before the chunk is written: audio that is not base64 is the upstream's fault, and must not cut a chunk in half.
        var audioData = audio is null ? null : GeminiToChatResponseTranslator.JoinedAudio(audio);

        // A chunk with log probabilities but no text (the last tokens of a choice, say) still gets a content chunk.
        if (text is not null || reasoning is not null || calls is not null || images is not null || audio is not null || extras is not null
            || !state.RoleSent || GeminiLogprobsToChat.Has(candidate))
        {
            WriteChunk(output, index, state, null, null, candidate, (w, st) =>
            {
                if (reasoning is not null)
                {
                    w.WriteString("reasoning_content"u8, reasoning.ToString());
                }

                if (text is not null || (calls is null && reasoning is null && images is null && audio is null && extras is null))
                {
                    w.WriteString("content"u8, text?.ToString() ?? string.Empty);
                    st.TextSent |= text is not null;
                }

                if (images is not null)
                {
                    w.WritePropertyName("images"u8);
                    w.WriteStartArray();
                    foreach (var (mimeType, data) in images)
                    {
                        GeminiToChatWriting.WriteImage(w, st.NextImageIndex++, mimeType, data);
                    }

                    w.WriteEndArray();
                }

                if (audioData is not null)
                {
                    // Chat streams an audio answer as delta.audio pieces under one id; the first says when it expires.
                    w.WritePropertyName("audio"u8);
                    w.WriteStartObject();
                    var first = st.AudioId is null;
                    w.WriteString("id"u8, st.AudioId ??= GeminiToChatWriting.NewAudioId());
                    w.WriteString("data"u8, audioData);
                    if (first)
                    {
                        w.WriteNumber("expires_at"u8, _context.Created);
                        w.WriteString("transcript"u8, string.Empty);
                    }

                    w.WriteEndObject();
                }

                extras?.Write(w);

                if (calls is not null)
                {
                    w.WritePropertyName("tool_calls"u8);
                    w.WriteStartArray();
                    foreach (var (call, part) in calls)
                    {
                        // The index counts calls across the whole stream, so parallel calls that arrive in
                        // separate chunks never collide on index 0.
                        GeminiToChatWriting.WriteFunctionCall(w, call, part, GeminiToChatWriting.ToolCallIdFor(call), st.NextToolIndex++, _outcome.IssuedSignatures);
                    }

                    w.WriteEndArray();
                    st.SawToolCall = true;
                }
            });
        }

        // An odd finish reason reads as none, as in a whole response: the stream is then closed as a stop at its end.
        if (UpstreamFields.StringOrNone(UpstreamFields.Field(candidate, "finishReason")) is { Length: > 0 } reason && !state.Finished)
        {
            if (_context.SearchGrounding)
            {
                // Grounding may still come in a later event; the finish chunk, which carries the citations,
                // waits for the end of the stream (only the finish: every piece of text has gone out already).
                state.PendingFinish = reason;
            }
            else
            {
                FinishChoice(output, index, state, GeminiToChatWriting.MapFinishReason(reason, state.SawToolCall), reason);
            }
        }
    }

    /// <summary>The choice's last chunk: the finish reason, and the citations once the whole text is known.</summary>
    private void FinishChoice(IBufferWriter<byte> output, int index, ChoiceState state, string finishReason, string? nativeFinishReason)
    {
        state.FinishExtras.TakeResponse(_responseExtras);
        WriteChunk(output, index, state, finishReason, nativeFinishReason, default, static (w, st) =>
        {
            if (st.Supports is { Count: > 0 } supports)
            {
                GroundingAnnotations.Write(w, st.Sources!, supports, st.Text?.ToString() ?? string.Empty);
            }

            st.FinishExtras.Write(w);
        });
    }

    private void WriteChunk(IBufferWriter<byte> output, int index, ChoiceState state, string? finishReason, string? nativeFinishReason, JsonElement candidate, Action<Utf8JsonWriter, ChoiceState> writeDelta)
    {
        WriteEvent(output, w =>
        {
            WriteChunkHeader(w);
            w.WritePropertyName("choices"u8);
            w.WriteStartArray();
            w.WriteStartObject();
            w.WriteNumber("index"u8, index);
            w.WritePropertyName("delta"u8);
            w.WriteStartObject();
            if (!state.RoleSent)
            {
                w.WriteString("role"u8, "assistant");
                state.RoleSent = true;
            }

            writeDelta(w, state);
            w.WriteEndObject();
            GeminiLogprobsToChat.WriteOpenAI(w, candidate);
            if (finishReason is null)
            {
                w.WriteNull("finish_reason"u8);
            }
            else
            {
                w.WriteString("finish_reason"u8, finishReason);
                GeminiToChatWriting.WriteNativeFinishReason(w, nativeFinishReason);
                state.Finished = true;
            }

            w.WriteEndObject();
            w.WriteEndArray();
            if (_context.IncludeUsage)
            {
                w.WriteNull("usage"u8);
            }

            w.WriteEndObject();
        });
    }

    private void WriteChunkHeader(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, _id ??= "chatcmpl-" + Guid.NewGuid().ToString("N"));
        w.WriteString("object"u8, "chat.completion.chunk");
        w.WriteNumber("created"u8, _context.Created);
        w.WriteString("model"u8, _context.ClientModel);
    }

    private static void WriteEvent(IBufferWriter<byte> output, Action<Utf8JsonWriter> write)
    {
        output.Write(DataPrefix);
        using (var writer = new Utf8JsonWriter(output, WireJson.WriterOptions))
        {
            write(writer);
        }

        output.Write(EventEnd);
    }

    private static ReadOnlySpan<byte> TrimAscii(ReadOnlySpan<byte> data)
    {
        var start = 0;
        var end = data.Length;
        while (start < end && data[start] is (byte)' ' or (byte)'\r' or (byte)'\n' or (byte)'\t')
        {
            start++;
        }

        while (end > start && data[end - 1] is (byte)' ' or (byte)'\r' or (byte)'\n' or (byte)'\t')
        {
            end--;
        }

        return data[start..end];
    }

    private sealed class ChoiceState
    {
        public bool RoleSent { get; set; }

        public bool Finished { get; set; }

        public bool SawToolCall { get; set; }

        public int NextToolIndex { get; set; }

        /// <summary>Gemini's finish reason, when the finish chunk waits for the end of the stream (citations).</summary>
        public string? PendingFinish { get; set; }

        /// <summary>The visible text so far; kept only when the request used Google Search (for citation offsets).</summary>
        public StringBuilder? Text { get; set; }

        public List<GroundingAnnotations.Source>? Sources { get; set; }

        public List<GroundingAnnotations.Support>? Supports { get; set; }

        /// <summary>
        /// What goes out with the finish chunk, from whichever events brought it: Google's search suggestions (search
        /// requests only), the URL context tool's fetches and the finish message.
        /// </summary>
        public GoogleAnswerExtras FinishExtras { get; } = new();

        /// <summary>Visible text went out (so code the model runs next stands between texts).</summary>
        public bool TextSent { get; set; }

        /// <summary>Code ran after the last text: the next text starts with a paragraph break.</summary>
        public bool CodeAfterText { get; set; }

        public int NextImageIndex { get; set; }

        /// <summary>The id of the choice's audio answer, once its first piece went out.</summary>
        public string? AudioId { get; set; }

        /// <summary>The media type of the audio answer; audio of another type goes in the vendor field.</summary>
        public string? AudioMimeType { get; set; }
    }
}
