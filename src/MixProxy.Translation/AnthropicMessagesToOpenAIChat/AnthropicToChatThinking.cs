using System.Text.Json;
using MixProxy.Translation.Json;
using MixProxy.Translation.OpenAIChatToGemini;
using MixProxy.Translation.Protocols;
using static MixProxy.Translation.AnthropicMessages.AnthropicFields;

namespace MixProxy.Translation.AnthropicMessagesToOpenAIChat;

/// <summary>
/// Anthropic's <c>thinking</c> (<c>enabled</c> with a token budget, <c>adaptive</c>, <c>disabled</c>) and
/// <c>output_config.effort</c> → the thinking the upstream model has, as the model map describes it
/// (<see cref="UpstreamModelProfile.Thinking"/>). On Gemini: a budget on 2.5 models (the client's, within the model's
/// range; from the effort when adaptive), a level on Gemini 3 (the nearest one), and thought text when the client asked
/// to see thinking, all as Google's <c>extra_body.google.thinking_config</c>. On Chat Completions: OpenAI's
/// <c>reasoning_effort</c>. A model without thinking gets none: asking for it is dropped and reported.
/// </summary>
internal static class AnthropicToChatThinking
{
    private static readonly string[] Efforts = ["low", "medium", "high", "xhigh", "max"];

    /// <summary>Writes the thinking fields; returns whether the client asked to see thinking.</summary>
    public static bool Write(Utf8JsonWriter writer, JsonElement request, UpstreamModelProfile profile, bool towardsGemini, long? maxTokens, DroppedFields dropped)
    {
        var thinking = OptionalObject(Get(request, "thinking"), "thinking");
        string? mode = null;
        int? budget = null;
        var showText = true;
        if (IsSet(thinking))
        {
            mode = OptionalChoice(Get(thinking, "type"), "thinking.type", "enabled", "adaptive", "disabled")
                ?? throw new TranslationException("thinking.type", "thinking.type: Field required");
            if (mode == "enabled")
            {
                budget = ClientFields.OptionalInt32(Get(thinking, "budget_tokens"), "thinking.budget_tokens")
                    ?? throw new TranslationException("thinking.budget_tokens", "thinking.budget_tokens: Field required");
                if (budget < 1024)
                {
                    throw new TranslationException("thinking.budget_tokens", "thinking.budget_tokens: Input should be greater than or equal to 1024");
                }

                if (maxTokens is { } cap && budget >= cap)
                {
                    throw new TranslationException("max_tokens", "max_tokens: must be greater than thinking.budget_tokens");
                }
            }

            showText = OptionalChoice(Get(thinking, "display"), "thinking.display", "summarized", "omitted") != "omitted";
        }

        var config = OptionalObject(Get(request, "output_config"), "output_config");
        var effort = OptionalChoice(Get(config, "effort"), "output_config.effort", Efforts);
        var shows = mode is "enabled" or "adaptive";

        if (profile.Thinking == ThinkingStyle.None)
        {
            if (shows)
            {
                dropped.Drop("thinking", $"Model '{profile.UpstreamModel}' does not think; it answers without thinking.");
            }

            if (effort is not null)
            {
                dropped.Drop("output_config.effort", $"Model '{profile.UpstreamModel}' has no reasoning effort to set.");
            }

            return shows;
        }

        // An explicit budget speaks for itself; else the effort; adaptive without one leaves the model its default.
        var asEffort = effort is not null ? OpenAIEffort(effort) : budget is { } b ? EffortForBudget(b) : null;
        if (!towardsGemini)
        {
            if (mode != "disabled" && asEffort is not null)
            {
                writer.WriteString("reasoning_effort"u8, asEffort);
            }

            return shows;
        }

        string? level = null;
        int? geminiBudget = null;
        if (mode == "disabled")
        {
            // Gemini 3 cannot stop thinking: its lowest level; a 2.5 model its smallest budget (0 where it may).
            (level, geminiBudget) = profile.Thinking == ThinkingStyle.Level ? (profile.ThinkingLevels[0], (int?)null) : (null, profile.MinThinkingBudget);
        }
        else if (profile.Thinking == ThinkingStyle.Level)
        {
            level = asEffort is null ? null : ChatThinking.ChooseLevel(asEffort, profile.ThinkingLevels);
        }
        else
        {
            geminiBudget = budget is { } own
                ? Math.Clamp(own, profile.MinThinkingBudget, profile.MaxThinkingBudget)
                : asEffort is null ? (mode == "adaptive" ? -1 : null) : Math.Clamp(BudgetForEffort(asEffort), profile.MinThinkingBudget, profile.MaxThinkingBudget);
        }

        if (level is null && geminiBudget is null && !shows)
        {
            return shows;
        }

        writer.WritePropertyName("extra_body"u8);
        writer.WriteStartObject();
        writer.WritePropertyName("google"u8);
        writer.WriteStartObject();
        writer.WritePropertyName("thinking_config"u8);
        writer.WriteStartObject();
        if (level is not null)
        {
            writer.WriteString("thinking_level"u8, level);
        }

        if (geminiBudget is not null)
        {
            writer.WriteNumber("thinking_budget"u8, geminiBudget.Value);
        }

        writer.WriteBoolean("include_thoughts"u8, shows && showText);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
        return shows;
    }

    /// <summary>Anthropic's effort in OpenAI's words: <c>max</c> is OpenAI's highest, <c>xhigh</c>.</summary>
    private static string OpenAIEffort(string effort) => effort == "max" ? "xhigh" : effort;

    /// <summary>A budget's effort: the budgets Anthropic's own docs pair with light, moderate and deep thinking.</summary>
    private static string EffortForBudget(int budget) => budget switch
    {
        < 4096 => "low",
        < 16384 => "medium",
        _ => "high",
    };

    private static int BudgetForEffort(string effort) => effort switch
    {
        "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        _ => 32768,
    };
}
