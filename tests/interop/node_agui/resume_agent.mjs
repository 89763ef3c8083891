// An approval round trip with the real @ag-ui/client HttpAgent: run, then answer every pending
// interrupt with `runAgent({resume})` (approve: resolved + {approved: true}; deny: cancelled).
//
// stdin: {"url", "threadId", "messages", "decision": "approve"|"deny"}
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
const out = { ok: true, error: null };
let pending = [];
try {
  await agent.runAgent({}, subscriber);
  pending = structuredClone(agent.pendingInterrupts ?? []);
  const approve = config.decision === "approve";
  const resume = pending.map((interrupt) =>
    approve
      ? { interruptId: interrupt.id, status: "resolved", payload: { approved: true } }
      : { interruptId: interrupt.id, status: "cancelled" },
  );
  await agent.runAgent({ resume }, subscriber);
} catch (error) {
  out.ok = false;
  out.error = String(error && error.message ? error.message : error);
}
Object.assign(out, { outcomes, pending, messages: agent.messages, bodies, warnings, errors });
process.stdout.write(JSON.stringify(out));
