// Runs the official OpenAI SDK's Responses API client, configured as a new user would, against a running MixProxy:
// plain and streamed answers, a tool loop three ways, structured output, chaining, stored responses and an error.
// usage: MIXPROXY_BASE_URL=http://127.0.0.1:8080 MIXPROXY_KEY=... [MIXPROXY_MODEL=...] node responses.mjs
// Prints one line per check and exits 1 if any failed. On a Gemini 3 model every tool loop must bring the thought
// signature of the call back upstream, or Google (and the simulator playing it) refuses the second request.
import OpenAI from "openai";
import { expect, runChecks } from "./checks.mjs";

const baseURL = process.env.MIXPROXY_BASE_URL ?? "http://127.0.0.1:8080";
const apiKey = process.env.MIXPROXY_KEY ?? "mixproxy-demo-key";
const model = process.env.MIXPROXY_MODEL ?? "gemini-3.1-pro-preview";
// The prefix of the gateway's own encrypted_content (a Gemini thought signature, sealed), never an OpenAI one.
const signaturePrefix = "mixproxy.thought_signature.v1:";
const tools = [{
  type: "function",
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { query: { type: "string" } }, required: ["query"], additionalProperties: false },
  strict: true,
}];
const question = { role: "user", content: "What is the weather in Paris?" };

const openai = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0 });

/** The one function call of a response, its arguments checked. */
function functionCallOf(response) {
  const calls = response.output.filter(item => item.type === "function_call");
  expect(calls.length === 1 && calls[0].name === "get_weather", `one get_weather call, got ${JSON.stringify(response.output)}`);
  expect(typeof JSON.parse(calls[0].arguments).query === "string", `JSON arguments with a query, got ${calls[0].arguments}`);
  expect(calls[0].call_id, "a call_id");
  return calls[0];
}

/** The answer to a function's result: the simulated model echoes it, so "sunny" shows it reached the model. */
function expectAnswerUsing(response, output) {
  expect(response.status === "completed", `status completed, got ${response.status}`);
  expect(response.output_text.includes(output), `an answer that used the function's result, got "${response.output_text}"`);
}

const checks = {
  "create with instructions": async () => {
    const r = await openai.responses.create({ model, instructions: "Answer in one sentence.", input: "Hello" });
    expect(r.object === "response" && r.id, "a response with an id");
    expect(r.status === "completed", `status completed, got ${r.status}`);
    expect(r.model === model, `model ${model}, got ${r.model}`);
    expect(r.instructions === "Answer in one sentence.", "the instructions echoed");
    expect(r.output_text.includes("Hello"), `output_text, got "${r.output_text}"`);
    expect(r.usage?.input_tokens > 0 && r.usage.output_tokens > 0 && r.usage.total_tokens === r.usage.input_tokens + r.usage.output_tokens, `usage, got ${JSON.stringify(r.usage)}`);
  },
  "stream": async () => {
    const stream = openai.responses.stream({ model, input: "Hello there" });
    let text = "", deltas = 0;
    const types = new Set();
    for await (const event of stream) {
      types.add(event.type);
      if (event.type === "response.output_text.delta") {
        deltas++;
        text += event.delta;
      }
    }
    const final = await stream.finalResponse();
    expect(deltas > 1, `several text deltas, got ${deltas}`);
    expect(types.has("response.created") && types.has("response.completed"), `created and completed events, got ${[...types]}`);
    expect(final.status === "completed" && final.output_text === text, `a final response with the streamed text, got "${final.output_text}" vs "${text}"`);
    expect(final.usage?.total_tokens > 0, "usage in the final response");
  },
  "streamed function call": async () => {
    const stream = openai.responses.stream({ model, input: [question], tools });
    let argumentsDone = null;
    for await (const event of stream) {
      if (event.type === "response.function_call_arguments.done") argumentsDone = event.arguments;
    }
    const call = functionCallOf(await stream.finalResponse());
    expect(argumentsDone === call.arguments, `the arguments streamed whole once, got ${argumentsDone}`);
  },
  "tool loop with previous_response_id": async () => {
    const first = await openai.responses.create({ model, input: [question], tools });
    const call = functionCallOf(first);
    const second = await openai.responses.create({
      model, tools, previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }],
    });
    expectAnswerUsing(second, "sunny");
    expect(second.previous_response_id === first.id, "previous_response_id echoed");
  },
  "tool loop with the whole history sent back, store false": async () => {
    const include = ["reasoning.encrypted_content"];
    const first = await openai.responses.create({ model, input: [question], tools, include, store: false });
    const call = functionCallOf(first);
    const reasoning = first.output.filter(item => item.type === "reasoning");
    if (model.startsWith("gemini-3")) {
      // Gemini 3 signed the call: the signature rides in a reasoning item the client is asked to send back.
      expect(reasoning.length === 1 && reasoning[0].encrypted_content?.startsWith(signaturePrefix), `a reasoning item with the sealed signature, got ${JSON.stringify(reasoning)}`);
    }
    const second = await openai.responses.create({
      model, tools, include, store: false,
      input: [question, ...first.output, { type: "function_call_output", call_id: call.call_id, output: "sunny" }],
    });
    expectAnswerUsing(second, "sunny");
  },
  "tool loop with only the function call sent back, store false": async () => {
    // No reasoning item, so no signature from the client: the gateway must recall the one it saw issued.
    const first = await openai.responses.create({ model, input: [question], tools, store: false });
    const call = functionCallOf(first);
    const second = await openai.responses.create({
      model, tools, store: false,
      input: [
        question,
        { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: "sunny" },
      ],
    });
    expectAnswerUsing(second, "sunny");
  },
  "structured output": async () => {
    const schema = {
      type: "object",
      properties: {
        city: { type: "string" },
        temperature: { type: "number" },
        conditions: { type: "string", enum: ["sunny", "cloudy", "rainy"] },
        advice: { type: "array", items: { type: "string" } },
      },
      required: ["city", "temperature", "conditions", "advice"],
      additionalProperties: false,
    };
    const r = await openai.responses.parse({
      model, input: "The weather in Paris, please.",
      text: { format: { type: "json_schema", name: "weather", schema, strict: true } },
    });
    const parsed = JSON.parse(r.output_text);
    expect(typeof parsed.city === "string" && typeof parsed.temperature === "number" && Array.isArray(parsed.advice), `the required properties, got ${r.output_text}`);
    expect(schema.properties.conditions.enum.includes(parsed.conditions), `an enum value, got ${parsed.conditions}`);
    expect(JSON.stringify(r.output_parsed) === JSON.stringify(parsed), "output_parsed as the SDK parses it");
  },
  "previous_response_id chains text": async () => {
    const first = await openai.responses.create({ model, input: "My name is Ada." });
    const second = await openai.responses.create({ model, previous_response_id: first.id, input: "What is my name?" });
    expect(second.status === "completed" && second.output_text.includes("What is my name?"), `an answer, got "${second.output_text}"`);
    expect(second.previous_response_id === first.id, "previous_response_id echoed");
    // The earlier turn went upstream with the new one, and the upstream counted it.
    expect(second.usage.input_tokens > first.usage.input_tokens, `more input tokens than the first turn, got ${second.usage.input_tokens} vs ${first.usage.input_tokens}`);
  },
  "retrieve and delete": async () => {
    const created = await openai.responses.create({ model, input: "Remember this." });
    const retrieved = await openai.responses.retrieve(created.id);
    expect(retrieved.id === created.id && retrieved.status === "completed", `the stored response, got ${retrieved.id}`);
    expect(retrieved.output_text === created.output_text, `its output, got "${retrieved.output_text}"`);
    await openai.responses.delete(created.id);
    try {
      await openai.responses.retrieve(created.id);
    } catch (e) {
      expect(e instanceof OpenAI.NotFoundError, `a NotFoundError after the delete, got ${e.constructor.name} ${e.status}`);
      return;
    }
    throw new Error("expected the deleted response to be gone");
  },
  "background is a 400 on param background": async () => {
    try {
      await openai.responses.create({ model, input: "Hello", background: true });
    } catch (e) {
      expect(e instanceof OpenAI.BadRequestError && e.status === 400, `a BadRequestError, got ${e.constructor.name} ${e.status}`);
      expect(e.param === "background", `param background, got ${e.param}`);
      return;
    }
    throw new Error("expected an error");
  },
};

await runChecks(checks, model);
