// Drive a tool round trip with the real npm `ai` chat (6 or 7): send a message, answer every
// approval request with `addToolApprovalResponse` and every call of a client tool (one given
// with --tool-output) from `onToolCall` with `addToolOutput`, then `sendMessage()` to continue.
//
// Usage: node approval_client.mjs <ai6|ai7> <url> <approve|deny> [--text=first message]
//                                 [--tool-output=NAME=JSON]...
//
// Prints one JSON object: {"status", "error", "errors", "messages", "bodies", "toolCalls"} where
// bodies are the request bodies the chat POSTed and toolCalls the calls `onToolCall` saw.
// Exit code 0 unless the harness itself breaks.

const [, , version, url, decision, ...rest] = process.argv;
const usage = "usage: node approval_client.mjs <ai6|ai7> <url> <approve|deny> [--text=T] [--tool-output=NAME=JSON]...\n";
if (!["ai6", "ai7"].includes(version) || !url || !["approve", "deny"].includes(decision)) {
  process.stderr.write(usage);
  process.exit(2);
}
let text = "What is the weather in Paris?";
const toolOutputs = new Map(); // client tool name -> the output the client answers with
for (const arg of rest) {
  if (arg.startsWith("--text=")) text = arg.slice(7);
  else if (arg.startsWith("--tool-output=")) {
    const spec = arg.slice(14);
    const cut = spec.indexOf("=");
    toolOutputs.set(spec.slice(0, cut), JSON.parse(spec.slice(cut + 1)));
  } else {
    process.stderr.write(`unexpected argument: ${arg}\n${usage}`);
    process.exit(2);
  }
}

const { AbstractChat, DefaultChatTransport } = await import(version);
for (const level of ["warn", "error", "log", "info", "debug", "trace"]) console[level] = () => {};

const describe = (error) => ({ name: error?.name ?? typeof error, message: String(error?.message ?? error) });
const bodies = [];
const recordingFetch = async (input, init) => {
  if (init?.body) bodies.push(JSON.parse(init.body));
  return fetch(input, init);
};

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
    this.messages = [...this.messages.slice(0, index), structuredClone(message), ...this.messages.slice(index + 1)];
  }
  snapshot(value) {
    return structuredClone(value);
  }
}

class TestChat extends AbstractChat {}

const errors = [];
const toolCalls = [];
const outputsAdded = []; // addToolOutput's promises: not awaited inside onToolCall (as documented)
const state = new MemoryState();
const chat = new TestChat({
  id: "chat-approval",
  transport: new DefaultChatTransport({ api: url, fetch: recordingFetch }),
  state,
  onError: (error) => errors.push(describe(error)),
  onToolCall: ({ toolCall }) => {
    toolCalls.push(structuredClone(toolCall));
    if (!toolOutputs.has(toolCall.toolName)) return;
    outputsAdded.push(
      chat.addToolOutput({
        tool: toolCall.toolName,
        toolCallId: toolCall.toolCallId,
        output: toolOutputs.get(toolCall.toolName),
      }),
    );
  },
});
try {
  await chat.sendMessage({ text });
  await Promise.all(outputsAdded);
  const last = state.messages[state.messages.length - 1];
  const pending = (last?.parts ?? []).filter((part) => part.state === "approval-requested");
  for (const part of pending) {
    await chat.addToolApprovalResponse({
      id: part.approval.id,
      approved: decision === "approve",
      ...(decision === "deny" ? { reason: "not today" } : {}),
    });
  }
  if (pending.length || outputsAdded.length) await chat.sendMessage();
} catch (error) {
  errors.push(describe(error));
}
process.stdout.write(
  JSON.stringify({
    status: state.status,
    error: state.error ? describe(state.error) : null,
    errors,
    messages: state.messages,
    bodies,
    toolCalls,
  }),
);
