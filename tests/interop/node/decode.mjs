// Decode an HTTP body with the real npm `assistant-stream` client library.
//
// Usage: node decode.mjs <data-stream|assistant-transport> [--lenient] [--chunk-size=N]
//
// Reads the whole response body from stdin, feeds it (in N-byte slices, default 7)
// through the package's own decoder (`DataStreamDecoder` / `AssistantTransportDecoder`,
// strict unless --lenient) and `AssistantMessageAccumulator`, and prints exactly one
// JSON object on stdout:
//
//   {"ok": true,  "message": <final AssistantMessage>, "warnings": [...]}
//   {"ok": false, "error": "<message>", "partialMessage": <last message or null>, "warnings": [...]}
//
// Every console.* output produced while decoding is captured into `warnings`, so stdout
// carries nothing but the result. Exit code is 0 for both results; 2 for bad arguments,
// 1 for harness bugs.

import { format } from "node:util";
import {
  AssistantMessageAccumulator,
  AssistantTransportDecoder,
  DataStreamDecoder,
} from "assistant-stream";

const USAGE =
  "usage: node decode.mjs <data-stream|assistant-transport> [--lenient] [--chunk-size=N]";

const parseArgs = (argv) => {
  let protocol;
  let lenient = false;
  let chunkSize = 7;
  for (const arg of argv) {
    if (arg === "--lenient") {
      lenient = true;
    } else if (arg.startsWith("--chunk-size=")) {
      chunkSize = Number(arg.slice("--chunk-size=".length));
      if (!Number.isInteger(chunkSize) || chunkSize < 1) {
        throw new Error(`invalid --chunk-size: ${arg}`);
      }
    } else if (
      protocol === undefined &&
      (arg === "data-stream" || arg === "assistant-transport")
    ) {
      protocol = arg;
    } else {
      throw new Error(`unexpected argument: ${arg}`);
    }
  }
  if (protocol === undefined) throw new Error("missing protocol");
  return { protocol, lenient, chunkSize };
};

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${e.message}\n${USAGE}\n`);
  process.exit(2);
}

// Capture console output (the decoders report dropped frames via console.warn/error).
const warnings = [];
for (const level of ["warn", "error", "log", "info", "debug", "trace"]) {
  console[level] = (...parts) => {
    warnings.push(format(...parts));
  };
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
      // copy each slice into its own ArrayBuffer, like bytes read off a socket
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
};

// The message has a deprecated enumerable `content` getter that returns `parts`;
// JSON.stringify would print every part twice, so it is left out.
const withoutContentAlias = (message) => {
  const { content: _alias, ...rest } = message;
  return rest;
};

const body = await readStdin();
const strict = !args.lenient;
const decoder =
  args.protocol === "data-stream"
    ? new DataStreamDecoder({ strict })
    : new AssistantTransportDecoder({ strict });

let result;
let last = null;
try {
  const messages = slicedStream(body, args.chunkSize)
    .pipeThrough(decoder)
    .pipeThrough(new AssistantMessageAccumulator({ strict }));
  for await (const message of messages) last = message;
  if (last === null) throw new Error("accumulator produced no message");
  result = { ok: true, message: withoutContentAlias(last), warnings };
} catch (e) {
  result = {
    ok: false,
    error: e instanceof Error ? e.message : String(e),
    partialMessage: last === null ? null : withoutContentAlias(last),
    warnings,
  };
}

process.stdout.write(`${JSON.stringify(result)}\n`);
