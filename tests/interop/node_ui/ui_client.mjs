// Read a live UI message stream endpoint with the real npm `ai` client (5, 6 or 7).
//
// Usage: node ui_client.mjs <ai5|ai6|ai7> <url> [--turns=N] [--text=first message]
//                          [--then=next message]... [--chat-only]
//
// 1. "read": `DefaultChatTransport.sendMessages` (which parses the SSE body and validates every
//    chunk against the version's `uiMessageChunkSchema`) piped into `readUIMessageStream`.
// 2. "chat": the `useChat` path without React: an `AbstractChat` on `DefaultChatTransport`,
//    `sendMessage({text})` N times (default 1: the first message, then each `--then` in
//    order, then "turn N"), recording every request body it POSTs.
// `--chat-only` skips the "read" path (its result is then null).
//
// Prints one JSON object:
//   {"version", "read": {"chunks", "message", "errors", "updates"},
//    "chat": {"status", "error", "errors", "messages", "bodies", "data", "finish"}}
// where errors are [{name, message}]. Exit code 0 unless the harness itself breaks.

const [, , version, url, ...rest] = process.argv;
if (!["ai5", "ai6", "ai7"].includes(version) || !url) {
  process.stderr.write("usage: node ui_client.mjs <ai5|ai6|ai7> <url> [--turns=N] [--text=T] [--then=T]... [--chat-only]\n");
  process.exit(2);
}
let turns = 1;
let firstText = "hello";
const laterTexts = [];
let chatOnly = false;
for (const arg of rest) {
  if (arg.startsWith("--turns=")) turns = Number(arg.slice(8));
  else if (arg.startsWith("--text=")) firstText = arg.slice(7);
  else if (arg.startsWith("--then=")) laterTexts.push(arg.slice(7));
  else if (arg === "--chat-only") chatOnly = true;
  else {
    process.stderr.write(`unexpected argument: ${arg}\n`);
    process.exit(2);
  }
}

const { AbstractChat, DefaultChatTransport, readUIMessageStream } = await import(version);

// Nothing but the result goes to stdout.
for (const level of ["warn", "error", "log", "info", "debug", "trace"]) {
  console[level] = () => {};
}

const describe = (error) => ({
  name: error?.name ?? typeof error,
  message: String(error?.message ?? error),
});

const bodies = [];
const recordingFetch = async (input, init) => {
  if (init?.body) bodies.push(JSON.parse(init.body));
  return fetch(input, init);
};

const userMessage = (id, text) => ({ id, role: "user", parts: [{ type: "text", text }] });

async function readPath() {
  const errors = [];
  const chunks = [];
  let message = null;
  let updates = 0;
  try {
    const transport = new DefaultChatTransport({ api: url });
    const stream = await transport.sendMessages({
      chatId: "read-1",
      messages: [userMessage("u1", firstText)],
      abortSignal: undefined,
      trigger: "submit-message",
      messageId: undefined,
    });
    const [forReader, forLog] = stream.tee();
    const logging = (async () => {
      const reader = forLog.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(structuredClone(value)); // the reader mutates the chunks it stores
      }
    })().catch((error) => errors.push(describe(error)));
    for await (const snapshot of readUIMessageStream({
      stream: forReader,
      onError: (error) => errors.push(describe(error)),
    })) {
      message = snapshot;
      updates += 1;
    }
    await logging;
  } catch (error) {
    errors.push(describe(error));
  }
  return { chunks, message, errors, updates };
}

class MemoryState {
  constructor() {
    this.status = "ready";
    this.error = undefined;
    this.messages = [];
  }
  pushMessage(message) {
    this.messages = this.messages.concat(message);
  }
  popMessage() {
    this.messages = this.messages.slice(0, -1);
  }
  replaceMessage(index, message) {
    this.messages = [
      ...this.messages.slice(0, index),
      this.snapshot(message),
      ...this.messages.slice(index + 1),
    ];
  }
  snapshot(value) {
    return structuredClone(value);
  }
}

class TestChat extends AbstractChat {}

async function chatPath() {
  const errors = [];
  const data = [];
  let finish = null;
  const state = new MemoryState();
  const chat = new TestChat({
    id: "chat-1",
    transport: new DefaultChatTransport({ api: url, fetch: recordingFetch }),
    state,
    onError: (error) => errors.push(describe(error)),
    onData: (part) => data.push(part),
    onFinish: (event) =>
      (finish = {
        isAbort: event.isAbort ?? null,
        isError: event.isError ?? null,
        finishReason: event.finishReason ?? null,
        metadata: event.message?.metadata ?? null,
      }),
  });
  const texts = [firstText, ...laterTexts];
  for (let turn = 1; turn <= Math.max(turns, texts.length); turn += 1) {
    try {
      await chat.sendMessage({ text: texts[turn - 1] ?? `turn ${turn}` });
    } catch (error) {
      errors.push(describe(error));
    }
  }
  return {
    status: state.status,
    error: state.error ? describe(state.error) : null,
    errors,
    messages: state.messages,
    bodies,
    data,
    finish,
  };
}

const read = chatOnly ? null : await readPath();
const chat = await chatPath();
process.stdout.write(JSON.stringify({ version, read, chat }));
