// Runs the official Anthropic SDK (@anthropic-ai/sdk), configured as a new user would, against a running MixProxy:
// messages plain and streamed, the raw event stream, tool loops (streamed and not), extended thinking with and without
// tools, token counting, both ways to present the key, and errors (a wrong key, an unknown model, an upstream 429).
// usage: MIXPROXY_BASE_URL=http://127.0.0.1:8080 MIXPROXY_KEY=... [MIXPROXY_MODEL=...] node anthropic.mjs
// Prints one line per check and exits 1 if any failed. On a Gemini 3 model every tool loop must bring the thought
// signature of the call back upstream, or Google (and the simulator playing it) refuses the second request; on a
// model served by an Anthropic upstream, thinking blocks must come back unaltered.
import Anthropic from "@anthropic-ai/sdk";
import { expect, runChecks } from "./checks.mjs";

const baseURL = process.env.MIXPROXY_BASE_URL ?? "http://127.0.0.1:8080";
const apiKey = process.env.MIXPROXY_KEY ?? "mixproxy-demo-key";
const model = process.env.MIXPROXY_MODEL ?? "gemini-3.1-pro-preview";
// Only Gemini and Anthropic upstreams can count tokens; a Chat Completions upstream cannot.
const canCount = !model.startsWith("gpt");
const tools = [{
  name: "get_weather",
  description: "The weather in a city",
  input_schema: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
}];
const question = { role: "user", content: "What is the weather in Paris?" };
const thinking = { type: "enabled", budget_tokens: 1024 };

const anthropic = new Anthropic({ baseURL, apiKey, maxRetries: 0 });

/** The text of a message's text blocks. */
const textOf = message => message.content.filter(b => b.type === "text").map(b => b.text).join("");

/** The one tool call of a message, its input checked. */
function toolUseOf(message) {
  const calls = message.content.filter(b => b.type === "tool_use");
  expect(calls.length === 1 && calls[0].name === "get_weather", `one get_weather call, got ${JSON.stringify(message.content)}`);
  expect(typeof calls[0].input?.query === "string", `an input with a query, got ${JSON.stringify(calls[0].input)}`);
  expect(calls[0].id, "a tool_use id");
  expect(message.stop_reason === "tool_use", `stop_reason tool_use, got ${message.stop_reason}`);
  return calls[0];
}

/** The next request of a tool loop: the assistant turn sent back whole, as the SDK returned it, and the tool's result. */
const answering = (first, call, extra = {}) => ({
  model, max_tokens: 2048, tools, ...extra,
  messages: [question, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "sunny" }] }],
});

/** The answer to a tool's result: the simulated model echoes it, so "sunny" shows it reached the model. */
function expectAnswerUsing(message) {
  expect(message.stop_reason === "end_turn", `stop_reason end_turn, got ${message.stop_reason}`);
  expect(textOf(message).includes("tool result sunny"), `an answer that used the tool's result, got "${textOf(message)}"`);
}

/** Every thinking block carries a signature; on a model served by Anthropic there is one, first. */
function expectSignedThinking(message) {
  const blocks = message.content.filter(b => b.type === "thinking");
  expect(blocks.every(b => typeof b.signature === "string" && b.signature.length > 0), `signed thinking blocks, got ${JSON.stringify(blocks)}`);
  if (model.startsWith("claude")) {
    expect(message.content[0]?.type === "thinking", `a thinking block first, got ${JSON.stringify(message.content)}`);
  }
}

/** The status and Anthropic error type an SDK error carries. */
async function expectError(call, errorClass, status, type) {
  try {
    await call();
  } catch (e) {
    expect(e instanceof errorClass, `${errorClass.name}, got ${e?.constructor?.name}: ${e?.message}`);
    expect(e.status === status, `status ${status}, got ${e.status}`);
    expect(e.error?.type === "error" && e.error?.error?.type === type, `an Anthropic error of type ${type}, got ${JSON.stringify(e.error)}`);
    return;
  }
  throw new Error(`expected ${errorClass.name}, the call succeeded`);
}

const checks = {
  "create with system": async () => {
    const m = await anthropic.messages.create({ model, max_tokens: 256, system: "Answer in one sentence.", messages: [{ role: "user", content: "Hello" }] });
    expect(m.type === "message" && m.role === "assistant" && m.id?.startsWith("msg_"), `a message with an id, got ${JSON.stringify(m)}`);
    expect(m.model === model, `model ${model}, got ${m.model}`);
    expect(textOf(m) === "Hello from the MixProxy simulator. You said: Hello", `the answer, got "${textOf(m)}"`);
    expect(m.stop_reason === "end_turn", `stop_reason end_turn, got ${m.stop_reason}`);
    expect(m.usage?.input_tokens > 0 && m.usage.output_tokens > 0, `usage, got ${JSON.stringify(m.usage)}`);
  },
  "stream": async () => {
    const stream = anthropic.messages.stream({ model, max_tokens: 256, messages: [{ role: "user", content: "Hello there" }] });
    let text = "", deltas = 0;
    stream.on("text", delta => { deltas++; text += delta; });
    const final = await stream.finalMessage();
    expect(deltas > 1, `several text deltas, got ${deltas}`);
    expect(text === "Hello from the MixProxy simulator. You said: Hello there", `the streamed text, got "${text}"`);
    expect(textOf(final) === text, `a final message with the streamed text, got "${textOf(final)}"`);
    expect(final.stop_reason === "end_turn" && final.usage?.output_tokens > 0, `stop reason and usage in the final message, got ${final.stop_reason} ${JSON.stringify(final.usage)}`);
  },
  "raw event stream": async () => {
    const stream = await anthropic.messages.create({ model, max_tokens: 256, stream: true, messages: [{ role: "user", content: "Hi" }] });
    const types = [];
    for await (const event of stream) types.push(event.type);
    const order = types.filter(t => t !== "ping");
    expect(order[0] === "message_start" && order.at(-1) === "message_stop" && order.at(-2) === "message_delta", `message_start first, message_delta and message_stop last, got ${types}`);
    expect(order.includes("content_block_start") && order.includes("content_block_delta") && order.includes("content_block_stop"), `content block events, got ${types}`);
  },
  "tool loop": async () => {
    const first = await anthropic.messages.create({ model, max_tokens: 1024, tools, messages: [question] });
    const call = toolUseOf(first);
    expectAnswerUsing(await anthropic.messages.create(answering(first, call)));
  },
  "streamed tool loop": async () => {
    const stream = anthropic.messages.stream({ model, max_tokens: 1024, tools, messages: [question] });
    let json = "";
    stream.on("inputJson", delta => { json += delta; });
    const first = await stream.finalMessage();
    const call = toolUseOf(first);
    expect(JSON.stringify(JSON.parse(json)) === JSON.stringify(call.input), `the input streamed as JSON pieces, got ${json}`);
    expectAnswerUsing(await anthropic.messages.stream(answering(first, call)).finalMessage());
  },
  "extended thinking": async () => {
    const m = await anthropic.messages.create({ model, max_tokens: 2048, thinking, messages: [{ role: "user", content: "Think about it" }] });
    expectSignedThinking(m);
    expect(textOf(m) === "Hello from the MixProxy simulator. You said: Think about it", `the answer after thinking, got "${textOf(m)}"`);
  },
  "extended thinking in a streamed tool loop": async () => {
    const first = await anthropic.messages.stream({ model, max_tokens: 2048, thinking, tools, messages: [question] }).finalMessage();
    expectSignedThinking(first);
    const call = toolUseOf(first);
    const second = await anthropic.messages.create(answering(first, call, { thinking }));
    expectSignedThinking(second);
    expectAnswerUsing(second);
  },
  ...(canCount ? {
    "count tokens": async () => {
      const counted = await anthropic.messages.countTokens({ model, messages: [{ role: "user", content: "Hello ".repeat(50) }] });
      expect(counted.input_tokens > 0, `input_tokens, got ${JSON.stringify(counted)}`);
    },
  } : {}),
  "key in x-api-key": async () => {
    const sent = [];
    const keyed = new Anthropic({
      baseURL, apiKey: null, authToken: null, maxRetries: 0, defaultHeaders: { "x-api-key": apiKey },
      fetch: (url, init) => { sent.push(new Headers(init.headers)); return fetch(url, init); },
    });
    const m = await keyed.messages.create({ model, max_tokens: 64, messages: [{ role: "user", content: "Hi" }] });
    expect(textOf(m).endsWith("You said: Hi"), `an answer, got "${textOf(m)}"`);
    expect(sent.length === 1 && sent[0].get("x-api-key") === apiKey && !sent[0].has("authorization"), `the key in x-api-key alone, sent ${JSON.stringify(sent.map(h => [...h.keys()]))}`);
  },
  "wrong key": async () => {
    const stranger = new Anthropic({ baseURL, apiKey: "not-a-key", maxRetries: 0 });
    await expectError(() => stranger.messages.create({ model, max_tokens: 64, messages: [{ role: "user", content: "Hi" }] }), Anthropic.AuthenticationError, 401, "authentication_error");
  },
  "unknown model": async () => {
    await expectError(() => anthropic.messages.create({ model: "no-such-model", max_tokens: 64, messages: [{ role: "user", content: "Hi" }] }), Anthropic.NotFoundError, 404, "not_found_error");
  },
  // Last: the upstream's 429 may put its destination in a cooldown.
  "upstream 429": async () => {
    await expectError(
      () => anthropic.messages.create({ model, max_tokens: 64, messages: [{ role: "user", content: "Hi" }] }, { headers: { "x-simulator-error": "429" } }),
      Anthropic.RateLimitError, 429, "rate_limit_error");
  },
};

await runChecks(checks, model);
