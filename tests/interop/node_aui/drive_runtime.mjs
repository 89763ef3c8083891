// Drive a real assistant-ui runtime (no browser, no DOM) through two turns against a server:
//
//   node drive_runtime.mjs '{"runtime": "assistant-transport" | "data-stream", "url": "...",
//                            "text": "...", "answer": {...}, "then": "...", "timeoutMs": 30000}'
//
// The React hook (`useAssistantTransportRuntime` from @assistant-ui/react, or
// `useDataStreamRuntime` from @assistant-ui/react-data-stream) runs inside a component rendered by
// react-test-renderer under AssistantRuntimeProvider. The script registers one human tool
// (`get_location`, no `execute`: the user answers it) and a system prompt, appends a user message,
// waits until the thread holds the server's tool call with no result, answers it with the message
// part's `addToolResult`, and waits until the runtime has finished the run that answer starts.
// With `then`, it appends that user message next and waits until the reply to it has finished.
// Every wait is on the runtime's own subscriptions; `timeoutMs` only bounds the whole script.
//
// Prints one JSON object: {"ok": true, "thread": [...]} (the final thread, simplified) or
// {"ok": false, "error": "...", "thread": [...]}.

import { createElement } from "react";
import TestRenderer from "react-test-renderer";
import {
  AssistantRuntimeProvider,
  fromThreadMessageLike,
  useAssistantTransportRuntime,
} from "@assistant-ui/react";
import { useDataStreamRuntime } from "@assistant-ui/react-data-stream";

const config = JSON.parse(process.argv[2] ?? "{}");
const { runtime: kind, url, text, answer, then } = config;
const timeoutMs = config.timeoutMs ?? 30000;

// react-test-renderer 19 announces its deprecation on every create(); keep stdout for the result
// and drop only that one notice from stderr.
const consoleError = console.error;
console.error = (...args) => {
  if (typeof args[0] === "string" && args[0].includes("react-test-renderer is deprecated")) return;
  consoleError(...args);
};

// -- assistant transport: the server's state holds the conversation (OpenAI chat shape) ---------

const DONE = { type: "complete", reason: "unknown" };
const WAITING = { type: "requires-action", reason: "tool-calls" };

// state.messages -> ThreadMessages: tool messages become the results of the calls they answer.
const transportConverter = (state, { isSending }) => {
  const history = Array.isArray(state?.messages) ? state.messages : [];
  const results = new Map(
    history.filter((m) => m.role === "tool").map((m) => [m.tool_call_id, m.content]),
  );
  const messages = [];
  history.forEach((message, index) => {
    const id = `m${index}`;
    if (message.role === "user") {
      messages.push(fromThreadMessageLike({ id, role: "user", content: message.content }, id, DONE));
    } else if (message.role === "assistant") {
      const content = [];
      if (message.content) content.push({ type: "text", text: message.content });
      let waiting = false;
      for (const call of message.tool_calls ?? []) {
        const part = {
          type: "tool-call",
          toolCallId: call.id,
          toolName: call.function.name,
          argsText: call.function.arguments,
          args: JSON.parse(call.function.arguments),
        };
        if (results.has(call.id)) part.result = JSON.parse(results.get(call.id));
        else waiting = true;
        content.push(part);
      }
      messages.push(
        fromThreadMessageLike({ id, role: "assistant", content }, id, waiting ? WAITING : DONE),
      );
    }
  });
  return { messages, isRunning: isSending };
};

function useRuntime() {
  if (kind === "assistant-transport") {
    return useAssistantTransportRuntime({
      api: url,
      protocol: "assistant-transport",
      initialState: { messages: [] },
      converter: transportConverter,
      headers: {},
    });
  }
  if (kind === "data-stream") {
    return useDataStreamRuntime({ api: url, protocol: "data-stream" });
  }
  throw new Error(`unknown runtime ${kind}`);
}

// -- rendering ----------------------------------------------------------------------------------

let resolveRuntime;
const mounted = new Promise((resolve) => {
  resolveRuntime = resolve;
});

function App() {
  const runtime = useRuntime();
  resolveRuntime(runtime);
  return createElement(AssistantRuntimeProvider, { runtime }, null);
}

// -- waiting on the runtime ---------------------------------------------------------------------

let waiting = "the runtime to mount";

function threadState(runtime) {
  return runtime.thread.getState();
}

// Resolve with predicate(state) once it is truthy, checked now and after every thread update.
function until(runtime, label, predicate) {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const check = () => {
      let value;
      try {
        value = predicate(threadState(runtime));
      } catch (error) {
        unsubscribe();
        reject(error);
        return;
      }
      if (value) {
        unsubscribe();
        resolve(value);
      }
    };
    unsubscribe = runtime.thread.subscribe(check);
    waiting = label;
    check();
  });
}

function simplify(messages) {
  return messages.map((message) => ({
    id: message.id,
    role: message.role,
    status: message.status?.type ?? null,
    content: message.content.map((part) =>
      part.type === "tool-call"
        ? {
            type: part.type,
            toolCallId: part.toolCallId,
            toolName: part.toolName,
            args: part.args,
            result: part.result ?? null,
          }
        : part.type === "text"
          ? { type: "text", text: part.text }
          : { type: part.type },
    ),
  }));
}

const pendingCall = (state) => {
  if (state.isRunning) return null;
  const last = state.messages.at(-1);
  if (last?.role !== "assistant") return null;
  const part = last.content.find((p) => p.type === "tool-call" && p.result === undefined);
  return part ? { messageId: last.id, toolCallId: part.toolCallId } : null;
};

const textParts = (state) =>
  state.messages.reduce(
    (count, m) => count + m.content.filter((p) => p.type === "text" && p.text).length,
    0,
  );

// The run the answer started has finished: the call holds its result and the thread has more
// text than when the call was answered. (The data-stream runtime continues the same assistant
// message; the transport converter shows the reply as a new one.)
const answeredAndDone = (callId, textsBefore) => (state) =>
  !state.isRunning &&
  textParts(state) > textsBefore &&
  state.messages.some((m) =>
    m.content.some((p) => p.type === "tool-call" && p.toolCallId === callId && p.result !== undefined),
  );

async function drive() {
  TestRenderer.create(createElement(App));
  const runtime = await mounted;
  runtime.registerModelContextProvider({
    getModelContext: () => ({
      system: "Answer in one sentence.",
      tools: {
        get_location: {
          type: "human",
          description: "Ask the user where they are.",
          parameters: {
            type: "object",
            properties: { reason: { type: "string" } },
            required: ["reason"],
          },
        },
      },
    }),
  });
  runtime.thread.append(text);
  const call = await until(runtime, "the server's tool call", pendingCall);
  const textsBefore = textParts(threadState(runtime));
  runtime.thread
    .getMessageById(call.messageId)
    .getMessagePartByToolCallId(call.toolCallId)
    .addToolResult(answer);
  await until(runtime, "the answered turn to finish", answeredAndDone(call.toolCallId, textsBefore));
  if (then) {
    const textsBeforeThen = textParts(threadState(runtime));
    runtime.thread.append(then);
    // the new user message's text and the reply's, and the run is over
    await until(
      runtime,
      "the reply to the next message",
      (state) =>
        !state.isRunning &&
        state.messages.at(-1)?.role === "assistant" &&
        textParts(state) >= textsBeforeThen + 2,
    );
  }
  return runtime;
}

let runtimeForReport = null;
mounted.then((runtime) => {
  runtimeForReport = runtime;
});

const report = (result) => {
  const thread = runtimeForReport ? simplify(threadState(runtimeForReport).messages) : [];
  // exit once written: the runtime's fetch keeps connections alive
  process.stdout.write(`${JSON.stringify({ ...result, thread })}\n`, () => process.exit(0));
};

const timer = setTimeout(
  () => report({ ok: false, error: `timed out after ${timeoutMs} ms waiting for ${waiting}` }),
  timeoutMs,
);
drive().then(
  () => {
    clearTimeout(timer);
    report({ ok: true });
  },
  (error) => {
    clearTimeout(timer);
    report({ ok: false, error: String(error?.stack ?? error) });
  },
);
