// Runs the official OpenAI and Google GenAI SDKs, configured as a new user would, against a running MixProxy.
// usage: MIXPROXY_BASE_URL=http://127.0.0.1:8080 MIXPROXY_KEY=... [MIXPROXY_MODEL=...] node smoke.mjs
// Prints one line per check and exits 1 if any failed.
import OpenAI from "openai";
import { expect, runChecks } from "./checks.mjs";
import { GoogleGenAI } from "@google/genai";

const baseURL = process.env.MIXPROXY_BASE_URL ?? "http://127.0.0.1:8080";
const apiKey = process.env.MIXPROXY_KEY ?? "mixproxy-demo-key";
const model = process.env.MIXPROXY_MODEL ?? "gemini-3.1-pro-preview";
// A model whose upstream speaks only OpenAI Chat Completions: Google's SDK reaches it through translation.
const openaiModel = process.env.MIXPROXY_OPENAI_MODEL ?? "gpt-4o-mini";
const searchTool = {
  functionDeclarations: [{
    name: "search",
    description: "Search the web",
    parameters: { type: "OBJECT", properties: { query: { type: "STRING" } }, required: ["query"] },
  }],
};

const openai = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0 });
const google = new GoogleGenAI({ apiKey, httpOptions: { baseUrl: baseURL } });

const checks = {
  "openai chat": async () => {
    const r = await openai.chat.completions.create({ model, messages: [{ role: "user", content: "Hello" }] });
    expect(r.choices[0].message.content, "content");
    expect(r.usage?.total_tokens > 0, "usage");
  },
  "openai chat stream": async () => {
    const stream = await openai.chat.completions.create({
      model, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Hello" }],
    });
    let text = "", finish = null, usage = null, chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason ?? null;
      usage ??= chunk.usage ?? null;
    }
    expect(chunks > 2 && text.length > 0, "several chunks with text");
    expect(finish === "stop", "finish_reason stop");
    expect(usage?.total_tokens > 0, "usage chunk");
  },
  "google generateContent": async () => {
    const r = await google.models.generateContent({ model, contents: "Hello" });
    expect(r.text, "text");
  },
  "google generateContentStream": async () => {
    let text = "", chunks = 0;
    for await (const chunk of await google.models.generateContentStream({ model, contents: "Hello" })) {
      chunks++;
      text += chunk.text ?? "";
    }
    expect(chunks > 1 && text.length > 0, "several chunks with text");
  },
  "google countTokens": async () => {
    const r = await google.models.countTokens({ model, contents: "Hello" });
    expect(r.totalTokens > 0, "totalTokens");
  },
  "google generateContent on an OpenAI upstream": async () => {
    const r = await google.models.generateContent({ model: openaiModel, contents: "Hello" });
    expect(r.text && r.usageMetadata?.totalTokenCount > 0, "text and usage");
  },
  "google generateContentStream on an OpenAI upstream": async () => {
    let text = "", chunks = 0;
    for await (const chunk of await google.models.generateContentStream({ model: openaiModel, contents: "Hello" })) {
      chunks++;
      text += chunk.text ?? "";
    }
    expect(chunks > 1 && text.length > 0, "several chunks with text");
  },
  "google function calling on an OpenAI upstream": async () => {
    const r = await google.models.generateContent({ model: openaiModel, contents: "Weather in Paris?", config: { tools: [searchTool] } });
    const call = r.functionCalls?.[0];
    expect(call?.name === "search" && typeof call.args?.query === "string", `a search call, got ${JSON.stringify(r.functionCalls)}`);
    const next = await google.models.generateContent({
      model: openaiModel,
      config: { tools: [searchTool] },
      contents: [
        { role: "user", parts: [{ text: "Weather in Paris?" }] },
        { role: "model", parts: [{ functionCall: call }] },
        { role: "user", parts: [{ functionResponse: { id: call.id, name: call.name, response: { output: "sunny" } } }] },
      ],
    });
    expect(next.text?.includes("sunny"), "an answer that used the function's result");
  },
  "google streamed function calling on an OpenAI upstream": async () => {
    const calls = [];
    for await (const chunk of await google.models.generateContentStream({ model: openaiModel, contents: "Weather?", config: { tools: [searchTool] } })) {
      calls.push(...(chunk.functionCalls ?? []));
    }
    expect(calls.length === 1 && calls[0].name === "search" && calls[0].args?.query, `one whole call, got ${JSON.stringify(calls)}`);
  },
  "openai unknown model is a 404": async () => {
    try {
      await openai.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] });
    } catch (e) {
      expect(e.status === 404 && e.error?.code === "model_not_found", `404 model_not_found, got ${e.status}`);
      return;
    }
    throw new Error("expected an error");
  },
};

await runChecks(checks);
