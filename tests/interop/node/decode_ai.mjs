// Decode a data-stream body with the Vercel AI SDK v4 parser (npm `ai`, pinned to 4.x).
//
// Usage: node decode_ai.mjs [--chunk-size=N]
//
// Reads the whole response body from stdin and feeds it (in N-byte slices, default 7;
// N=1 makes the parser handle one line at a time) to:
//
// 1. `processDataStream` from `ai` with every part callback; each callback records
//    `{"type": <v4 part name>, "value": <parsed value>}` in order.
// 2. `callChatApi` from `@ai-sdk/ui-utils` (the exact version `ai` pins; it is what v4's
//    `useChat` calls) with a fake `fetch` answering with the same bytes, to show the message
//    a v4 `useChat` would hold.
//
// Prints exactly one JSON object on stdout:
//
//   {"ok": true,  "parts": [...], "chat": {...}}
//   {"ok": false, "error": "<message>", "parts": [<parts delivered before the error>], "chat": {...}}
//
// where "chat" is {"ok", "error"?, "message" (last update or null), "finishReason", "usage",
// "data", "toolCalls" (what onToolCall received)}. NaN usage numbers print as null.
// Exit code is 0 for both results; 2 for bad arguments, 1 for harness bugs.

import { callChatApi } from "@ai-sdk/ui-utils";
import { processDataStream } from "ai";

const USAGE = "usage: node decode_ai.mjs [--chunk-size=N]";

const parseArgs = (argv) => {
  let chunkSize = 7;
  for (const arg of argv) {
    if (arg.startsWith("--chunk-size=")) {
      chunkSize = Number(arg.slice("--chunk-size=".length));
      if (!Number.isInteger(chunkSize) || chunkSize < 1) {
        throw new Error(`invalid --chunk-size: ${arg}`);
      }
    } else {
      throw new Error(`unexpected argument: ${arg}`);
    }
  }
  return { chunkSize };
};

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${e.message}\n${USAGE}\n`);
  process.exit(2);
}

// Nothing but the result goes to stdout.
for (const level of ["warn", "error", "log", "info", "debug", "trace"]) {
  console[level] = () => {};
}

const readStdin = async () => {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
};

const slicedStream = (bytes, size) => {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
};

const errorText = (e) => (e instanceof Error ? e.message : String(e));

const body = await readStdin();

// -- 1. processDataStream: every part, in order -------------------------------------------

const CALLBACKS = {
  onTextPart: "text",
  onReasoningPart: "reasoning",
  onReasoningSignaturePart: "reasoning_signature",
  onRedactedReasoningPart: "redacted_reasoning",
  onSourcePart: "source",
  onFilePart: "file",
  onDataPart: "data",
  onErrorPart: "error",
  onToolCallStreamingStartPart: "tool_call_streaming_start",
  onToolCallDeltaPart: "tool_call_delta",
  onToolCallPart: "tool_call",
  onToolResultPart: "tool_result",
  onMessageAnnotationsPart: "message_annotations",
  onFinishMessagePart: "finish_message",
  onFinishStepPart: "finish_step",
  onStartStepPart: "start_step",
};

const parts = [];
const callbacks = Object.fromEntries(
  Object.entries(CALLBACKS).map(([name, type]) => [
    name,
    (value) => {
      parts.push({ type, value });
    },
  ]),
);

let result;
try {
  await processDataStream({ stream: slicedStream(body, args.chunkSize), ...callbacks });
  result = { ok: true, parts };
} catch (e) {
  result = { ok: false, error: errorText(e), parts };
}

// -- 2. callChatApi: the message v4's useChat would hold ----------------------------------

const chat = {
  ok: true,
  message: null,
  finishReason: null,
  usage: null,
  data: [],
  toolCalls: [],
};
let ids = 0;
try {
  await callChatApi({
    api: "http://interop.invalid/api/chat",
    body: { messages: [] },
    streamProtocol: "data",
    fetch: async () =>
      new Response(slicedStream(body, args.chunkSize), {
        status: 200,
        headers: { "content-type": "text/plain; charset=utf-8" },
      }),
    restoreMessagesOnFailure: () => {},
    onUpdate: ({ message, data }) => {
      chat.message = message;
      chat.data = data;
    },
    onToolCall: ({ toolCall }) => {
      chat.toolCalls.push(toolCall);
      return undefined;
    },
    onFinish: (message, { usage, finishReason }) => {
      chat.message = message;
      chat.usage = usage;
      chat.finishReason = finishReason;
    },
    generateId: () => `id_${ids++}`,
    lastMessage: undefined,
  });
} catch (e) {
  chat.ok = false;
  chat.error = errorText(e);
}
if (chat.message !== null) {
  // drop what varies or duplicates `parts` (createdAt, revisionId)
  const { createdAt: _created, revisionId: _revision, ...rest } = chat.message;
  chat.message = rest;
}
result.chat = chat;

process.stdout.write(`${JSON.stringify(result)}\n`);
