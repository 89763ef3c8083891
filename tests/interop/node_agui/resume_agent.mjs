// A multi-run conversation with the real @ag-ui/client HttpAgent: run, then answer every pending
// interrupt with `runAgent({resume})` (approve: resolved + {approved: true}; deny: cancelled),
// then answer every call of a client tool named in `toolResults` with a tool message and run
// again, then (with `followUp`) add that user message and run again. Every run offers `tools`.
//
// stdin: {"url", "threadId", "messages", "decision": "approve"|"deny", "tools": [...],
//         "toolResults": {"<tool name>": "<content>"}, "followUp": "<text>"}
// stdout: {ok, error, outcomes, pending, messages, bodies, warnings, errors}
import { HttpAgent } from "@ag-ui/client";

const warnings = [];
const errors = [];
console.warn = (...args) => warnings.push(args.map(String).join(" "));
console.error = (...args) => errors.push(args.map(String).join(" "));

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const config = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const bodies = [];
const agent = new HttpAgent({
  url: config.url,
  threadId: config.threadId,
  initialMessages: config.messages ?? [],
  fetch: (input, init) => {
    if (init?.body) bodies.push(JSON.parse(init.body));
    return fetch(input, init);
  },
});

const outcomes = [];
const subscriber = { onRunFinishedEvent: (params) => outcomes.push(params.event.outcome ?? null) };
const tools = config.tools ?? [];
const toolResults = config.toolResults ?? {};
const out = { ok: true, error: null };
let pending = [];

// Calls of the client's tools that no tool message answers yet.
const unansweredClientCalls = () => {
  const answered = new Set(agent.messages.filter((m) => m.role === "tool").map((m) => m.toolCallId));
  return agent.messages
    .flatMap((m) => m.toolCalls ?? [])
    .filter((call) => call.function.name in toolResults && !answered.has(call.id));
};

try {
  await agent.runAgent({ tools }, subscriber);
  pending = structuredClone(agent.pendingInterrupts ?? []);
  if (pending.length) {
    const approve = config.decision === "approve";
    const resume = pending.map((interrupt) =>
      approve
        ? { interruptId: interrupt.id, status: "resolved", payload: { approved: true } }
        : { interruptId: interrupt.id, status: "cancelled" },
    );
    await agent.runAgent({ resume, tools }, subscriber);
  }
  const calls = unansweredClientCalls();
  for (const call of calls) {
    agent.addMessage({
      id: `tool-${call.id}`,
      role: "tool",
      toolCallId: call.id,
      content: toolResults[call.function.name],
    });
  }
  if (calls.length) await agent.runAgent({ tools }, subscriber);
  if (config.followUp) {
    agent.addMessage({ id: `user-${bodies.length + 1}`, role: "user", content: config.followUp });
    await agent.runAgent({ tools }, subscriber);
  }
} catch (error) {
  out.ok = false;
  out.error = String(error && error.message ? error.message : error);
}
Object.assign(out, { outcomes, pending, messages: agent.messages, bodies, warnings, errors });
process.stdout.write(JSON.stringify(out));
