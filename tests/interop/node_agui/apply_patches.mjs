// Apply AG-UI state events the way @ag-ui/client 1.0 does (its own fast-json-patch, with
// validation, without mutating the input), for many streams in one process.
//
// stdin: [{"initial": <state>, "events": [<STATE_SNAPSHOT | STATE_DELTA event>, ...]}, ...]
// stdout: [{"state": <final state>, "errors": [<message>, ...]}, ...]
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const jsonpatch = require("fast-json-patch");

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const results = cases.map(({ initial, events }) => {
  let state = initial;
  const errors = [];
  for (const event of events) {
    if (event.type === "STATE_SNAPSHOT") {
      state = event.snapshot;
    } else if (event.type === "STATE_DELTA") {
      try {
        state = jsonpatch.applyPatch(state, event.delta, true, false).newDocument;
      } catch (error) {
        errors.push(String(error && error.message ? error.message : error));
      }
    }
  }
  return { state, errors };
});
process.stdout.write(JSON.stringify(results));
