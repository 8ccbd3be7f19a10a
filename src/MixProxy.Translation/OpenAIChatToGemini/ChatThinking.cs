using System.Text.Json;
using MixProxy.Translation.Protocols;

namespace MixProxy.Translation.OpenAIChatToGemini;

/// <summary>Chat Completions → Gemini: <c>reasoning_effort</c> and Google's <c>extra_body.google.thinking_config</c> become a <c>thinkingConfig</c> the model accepts (a level on Gemini 3, a budget on 2.5).</summary>
internal static class ChatThinking
{
    internal static void WriteThinking(JsonElement request, UpstreamModelProfile profile, LazyObject config)
    {
        string? level = null;
        int? budget = null;
        bool? includeThoughts = null;

        var (effortElement, effortParam) = EffortOf(request);
        if (effortElement.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
        {
            var effort = effortElement.ValueKind == JsonValueKind.String ? effortElement.GetString()! : string.Empty;
            if (effort is not ("none" or "minimal" or "low" or "medium" or "high" or "xhigh"))
            {
                throw new TranslationException(effortParam, $"{effortParam} '{effort}' is not one of none, minimal, low, medium, high, xhigh.");
            }

            switch (profile.Thinking)
            {
                case ThinkingStyle.Level:
                    level = ChooseLevel(effort, profile.ThinkingLevels);
                    break;
                case ThinkingStyle.Budget:
                    budget = Math.Clamp(effort switch { "none" => 0, "minimal" => 512, "low" => 1024, "medium" => 8192, _ => 24576 }, profile.MinThinkingBudget, profile.MaxThinkingBudget);
                    break;
                default:
                    if (effort != "none")
                    {
                        throw new TranslationException(effortParam, $"Model '{profile.UpstreamModel}' does not support reasoning_effort.");
                    }

                    break;
            }
        }

        // Google's own OpenAI layer takes Gemini's thinking knobs as extra_body.google.thinking_config (the OpenAI
        // SDKs' extra_body lands either nested or at the top level); they win over reasoning_effort.
        var google = request.TryGetProperty("extra_body", out var extra) && extra.ValueKind == JsonValueKind.Object && extra.TryGetProperty("google", out var nested)
            ? nested
            : request.TryGetProperty("google", out var top) ? top : default;
        if (google.ValueKind == JsonValueKind.Object && google.TryGetProperty("thinking_config", out var thinking) && thinking.ValueKind == JsonValueKind.Object)
        {
            const string Param = "extra_body.google.thinking_config";
            if (thinking.TryGetProperty("include_thoughts", out var include) && include.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                includeThoughts = include.GetBoolean();
            }

            var hasLevel = thinking.TryGetProperty("thinking_level", out var l) && l.ValueKind == JsonValueKind.String;
            var hasBudget = thinking.TryGetProperty("thinking_budget", out var b) && b.ValueKind == JsonValueKind.Number;
            if (hasLevel && hasBudget)
            {
                throw new TranslationException(Param, "Set thinking_level or thinking_budget, not both.");
            }

            if (hasLevel)
            {
                if (profile.Thinking != ThinkingStyle.Level || !profile.ThinkingLevels.Contains(l.GetString()!.ToLowerInvariant(), StringComparer.Ordinal))
                {
                    throw new TranslationException(Param + ".thinking_level", $"Model '{profile.UpstreamModel}' does not accept thinking level '{l.GetString()}'.");
                }

                (level, budget) = (l.GetString()!.ToLowerInvariant(), null);
            }
            else if (hasBudget)
            {
                var n = b.TryGetInt32(out var whole) ? whole : throw new TranslationException(Param + ".thinking_budget", "'thinking_budget' must be an integer.");
                if (profile.Thinking != ThinkingStyle.Budget || n != -1 && (n < profile.MinThinkingBudget || n > profile.MaxThinkingBudget))
                {
                    throw new TranslationException(Param + ".thinking_budget", $"Model '{profile.UpstreamModel}' does not accept a thinking budget of {b.GetRawText()} (range {profile.MinThinkingBudget}..{profile.MaxThinkingBudget}, or -1).");
                }

                (level, budget) = (null, n);
            }
        }

        if (level is null && budget is null && includeThoughts is null)
        {
            return;
        }

        config.Start().WritePropertyName("thinkingConfig"u8);
        config.Writer.WriteStartObject();
        if (level is not null)
        {
            config.Writer.WriteString("thinkingLevel"u8, level);
        }

        if (budget is not null)
        {
            config.Writer.WriteNumber("thinkingBudget"u8, budget.Value);
        }

        if (includeThoughts is not null)
        {
            config.Writer.WriteBoolean("includeThoughts"u8, includeThoughts.Value);
        }

        config.Writer.WriteEndObject();
    }

    /// <summary>
    /// <c>reasoning_effort</c>, or OpenRouter's spelling of it, <c>reasoning: {effort}</c>, which clients written for
    /// OpenRouter send instead. Its other knobs (<c>max_tokens</c>, <c>exclude</c>, <c>enabled</c>) are refused by
    /// name: they ask for a budget or for reasoning text in ways this route does not map, and leaving them out would
    /// answer with other reasoning than asked for. Both spellings with different efforts → 400.
    /// </summary>
    internal static (JsonElement Effort, string Param) EffortOf(JsonElement request)
    {
        var effort = request.TryGetProperty("reasoning_effort", out var e) ? e : default;
        if (!request.TryGetProperty("reasoning", out var reasoning) || reasoning.ValueKind == JsonValueKind.Null)
        {
            return (effort, "reasoning_effort");
        }

        if (reasoning.ValueKind != JsonValueKind.Object)
        {
            throw new TranslationException("reasoning", "'reasoning' must be an object.");
        }

        foreach (var property in reasoning.EnumerateObject())
        {
            if (property.Name != "effort")
            {
                throw new TranslationException("reasoning." + property.Name, $"Only 'reasoning.effort' is taken for Gemini models (as reasoning_effort); 'reasoning.{property.Name}' is not.");
            }
        }

        if (!reasoning.TryGetProperty("effort", out var nested) || nested.ValueKind == JsonValueKind.Null)
        {
            return (effort, "reasoning_effort");
        }

        if (effort.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) && effort.GetRawText() != nested.GetRawText())
        {
            throw new TranslationException("reasoning.effort", "'reasoning.effort' and 'reasoning_effort' disagree; send one.");
        }

        return (nested, "reasoning.effort");
    }

    /// <summary>
    /// Maps an OpenAI effort onto the levels a Gemini 3 model accepts (lowest first). Thinking cannot be
    /// turned off on Gemini 3, so none/minimal take the lowest level; medium rounds up where it is missing.
    /// </summary>
    internal static string ChooseLevel(string effort, IReadOnlyList<string> levels)
    {
        string? Has(string level) => levels.Contains(level, StringComparer.Ordinal) ? level : null;
        return effort switch
        {
            "none" => levels[0],
            "minimal" => Has("minimal") ?? levels[0],
            "low" => Has("low") ?? levels[0],
            "medium" => Has("medium") ?? Has("high") ?? levels[^1],
            _ => Has("high") ?? levels[^1],
        };
    }
}
