// Run the real @ag-ui/client HttpAgent (pinned in package.json) against a live server.
//
// stdin: {"url", "threadId", "messages", "state", "tools", "context", "forwardedProps"}
// stdout: one JSON object {ok, error, events, messages, state, newMessages, warnings, errors,
//         runErrors, customs, finished}. Every console.warn / console.error of the client is
// collected: the client reports schema deviations, stripped fields and patches that do not apply only
// that way, so a test treats any of them as a failure.
import { HttpAgent } from "@ag-ui/client";

const warnings = [];
const errors = [];
console.warn = (...args) => warnings.push(args.map(String).join(" "));
console.error = (...args) => errors.push(args.map(String).join(" "));

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const config = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const agent = new HttpAgent({
  url: config.url,
  threadId: config.threadId,
  initialMessages: config.messages ?? [],
  initialState: config.state ?? {},
});

const events = [];
const customs = [];
const runErrors = [];
let finished = null;
const subscriber = {
  onEvent: ({ event }) => {
    events.push(event.type);
  },
  onCustomEvent: ({ event }) => {
    customs.push({ name: event.name, value: event.value });
  },
  onRunErrorEvent: ({ event }) => {
    runErrors.push({ message: event.message, code: event.code ?? null });
  },
  onRunFinishedEvent: (params) => {
    finished = {
      outcome: params.outcome,
      pendingToolCallIds: params.pendingToolCallIds ?? null,
      usage: params.event.usage ?? null,
    };
  },
};

const out = { ok: true, error: null };
try {
  const result = await agent.runAgent(
    {
      tools: config.tools ?? [],
      context: config.context ?? [],
      forwardedProps: config.forwardedProps ?? {},
    },
    subscriber,
  );
  out.newMessages = result.newMessages;
} catch (error) {
  out.ok = false;
  out.error = String(error && error.message ? error.message : error);
}
Object.assign(out, {
  events,
  messages: agent.messages,
  state: agent.state,
  warnings,
  errors,
  runErrors,
  customs,
  finished,
});
process.stdout.write(JSON.stringify(out));
