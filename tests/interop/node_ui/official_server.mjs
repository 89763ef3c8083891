// The AI SDK's own server side (npm `ai` 7): `streamText` over a mock model with a tool, two
// steps, reasoning, streamed tool input, a source and usage, served by
// `toUIMessageStreamResponse`. Prints the response body (the UI message stream) on stdout, for
// our decoder to read.
//
// Usage: node official_server.mjs

import { stepCountIs, streamText, tool } from "ai7";
import { MockLanguageModelV3, convertArrayToReadableStream } from "ai7/test";
import { z } from "zod";

const usage = (input, output) => ({
  inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: output, text: output, reasoning: 0 },
});

const steps = [
  [
    { type: "stream-start", warnings: [] },
    { type: "reasoning-start", id: "r" },
    { type: "reasoning-delta", id: "r", delta: "The user wants the weather." },
    { type: "reasoning-end", id: "r" },
    { type: "text-start", id: "t" },
    { type: "text-delta", id: "t", delta: "Let me check." },
    { type: "text-end", id: "t" },
    { type: "tool-input-start", id: "call_1", toolName: "get_weather" },
    { type: "tool-input-delta", id: "call_1", delta: '{"city":' },
    { type: "tool-input-delta", id: "call_1", delta: '"Paris"}' },
    { type: "tool-input-end", id: "call_1" },
    { type: "tool-call", toolCallId: "call_1", toolName: "get_weather", input: '{"city":"Paris"}' },
    { type: "finish", finishReason: { unified: "tool-calls", raw: undefined }, usage: usage(10, 20) },
  ],
  [
    { type: "stream-start", warnings: [] },
    {
      type: "source",
      sourceType: "url",
      id: "src_1",
      url: "https://weather.example/paris",
      title: "Paris forecast",
    },
    { type: "text-start", id: "t2" },
    { type: "text-delta", id: "t2", delta: "It is 18 C in Paris." },
    { type: "text-end", id: "t2" },
    { type: "finish", finishReason: { unified: "stop", raw: undefined }, usage: usage(30, 5) },
  ],
];

let call = 0;
const model = new MockLanguageModelV3({
  doStream: async () => ({ stream: convertArrayToReadableStream(steps[call++]) }),
});

const result = streamText({
  model,
  prompt: "What is the weather in Paris?",
  tools: {
    get_weather: tool({
      inputSchema: z.object({ city: z.string() }),
      execute: async () => ({ tempC: 18 }),
    }),
  },
  stopWhen: stepCountIs(2),
});

const response = result.toUIMessageStreamResponse({
  sendReasoning: true,
  sendSources: true,
  messageMetadata: ({ part }) =>
    part.type === "finish"
      ? {
          usage: {
            inputTokens: part.totalUsage.inputTokens,
            outputTokens: part.totalUsage.outputTokens,
          },
        }
      : undefined,
});
process.stdout.write(
  JSON.stringify({
    headers: Object.fromEntries(response.headers.entries()),
    body: await response.text(),
  }),
);
