"""AG-UI encoding, in process: our encoder against ``ag-ui-protocol`` and pydantic-ai.

All three encode the same token stream (``--tokens`` text deltas of about four characters,
one text message in one run) into AG-UI 1.0 SSE, one ``TEXT_MESSAGE_CONTENT`` event per token:

- **ours (encoder)** — `AGUIEncoder.encode_frames` over `TextDeltaChunk`s made 64 at a time
  (what the response's drive loop does with each ready batch), then `finish_frames`;
- **ours (run)** — the whole pipeline: `create_run` with ``coalesce=False`` (so no deltas are
  merged: one frame per token like the others), the callback appending every token, read
  through `AGUIEncoder.iter_bytes`;
- **ag-ui-protocol** — ``ag_ui.encoder.EventEncoder().encode(event)`` for a ``RunStartedEvent``,
  ``TextMessageStartEvent``, one ``TextMessageContentEvent`` per token, ``TextMessageEndEvent``
  and ``RunFinishedEvent`` (the SDK's documented way to produce a stream), with ids of the same
  form as ours, ``protocolVersion`` and the success outcome: the same bytes as ours;
- **pydantic-ai** — ``AGUIEventStream(ag_ui_version="1.0")``: ``encode_stream(transform_stream(
  events))`` over pydantic-ai's own events (``PartStartEvent``, one ``PartDeltaEvent`` per token,
  ``PartEndEvent``), as its ``AGUIAdapter`` streams an agent run.

Every output is decoded with our `AGUIDecoder` and must give back exactly the token text; the
table also says whether it is the same bytes as ours-encoder's, the random ids aside. The ratio
is the ratio of the medians; "per repetition" is its range over the repetitions (each one runs
every implementation once, one after the other); "CPU time" is the same ratio for the process's
CPU time over the same span (``time.process_time()``), which time spent waiting for a busy
machine's cores does not inflate.

``--http`` adds the server side: one uvicorn subprocess on 127.0.0.1 serves ``--http-tokens``
tokens per request as ``AGUIResponse(create_run(...))`` (default settings; and, as
``ours-unmerged``, with ``coalesce=False, write_interval=0`` so no delta is merged and every
ready frame is written at once) and as a Starlette ``StreamingResponse`` over a hand-written
generator yielding each token's AG-UI frame (the minimal baseline); the producers ``await
asyncio.sleep(0)`` after every token. The figure is the server's CPU seconds per stream
(``/proc/<pid>/task/*/schedstat``), median of ``--reps`` interleaved requests after a
warm-up; the target is ours ≤1.25x minimal.
Figures: tokens/s (median of ``--reps``, each in a fresh subprocess after a warm-up), frames
and bytes. Run with ``benchmarks/agui_encoders.sh`` (it installs the other two in
``benchmarks/.venv-ag-ui``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

IMPLS = ("ours-encoder", "ours-run", "ag-ui-protocol", "pydantic-ai")
#: Chunks per `encode_frames` call for ours-encoder (the drive loop encodes each ready batch).
BATCH = 64


def tokens(count: int) -> list[str]:
    words = ["The ", "quic", "k br", "own ", "fox ", "jump", "s ov", "er t", "he l", "azy "]
    return [words[i % len(words)] for i in range(count)]


# -- the implementations: each returns the body (bytes) for the token list --------------------


def ours_encoder(toks: list[str]) -> bytes:
    from assistant_stream_ce import TextDeltaChunk
    from assistant_stream_ce.serialization.ag_ui import AGUIEncoder

    encoder = AGUIEncoder()
    frames: list[bytes] = []
    for start in range(0, len(toks), BATCH):  # ready batches, as the drive loop hands them
        batch = [TextDeltaChunk(tok) for tok in toks[start : start + BATCH]]
        frames += encoder.encode_frames(batch)
    frames += encoder.finish_frames()
    return b"".join(frames)


def ours_run(toks: list[str]) -> bytes:
    from assistant_stream_ce import RunController, create_run
    from assistant_stream_ce.serialization.ag_ui import AGUIEncoder

    async def run(controller: RunController) -> None:
        append = controller.append_text
        for tok in toks:
            append(tok)

    async def body() -> bytes:
        stream = create_run(run, coalesce=False)
        return b"".join([part async for part in AGUIEncoder().iter_bytes(stream)])

    return asyncio.run(body())


def ag_ui_protocol(toks: list[str]) -> bytes:
    from ag_ui.core import (
        RunFinishedEvent,
        RunFinishedSuccessOutcome,
        RunStartedEvent,
        TextMessageContentEvent,
        TextMessageEndEvent,
        TextMessageStartEvent,
    )
    from ag_ui.encoder import EventEncoder

    encoder = EventEncoder()
    # The same events as ours, byte for byte (see `canonical`): ids of the same form and
    # length, the protocol version and the outcome.
    thread_id, run_id = str(uuid.uuid4()), str(uuid.uuid4())
    message_id = f"msg_{uuid.uuid4().hex[:16]}_1"
    out = [
        encoder.encode(RunStartedEvent(thread_id=thread_id, run_id=run_id, protocol_version="1.0")),
        encoder.encode(TextMessageStartEvent(message_id=message_id, role="assistant")),
    ]
    for tok in toks:
        out.append(encoder.encode(TextMessageContentEvent(message_id=message_id, delta=tok)))
    out.append(encoder.encode(TextMessageEndEvent(message_id=message_id)))
    finished = RunFinishedEvent(
        thread_id=thread_id, run_id=run_id, outcome=RunFinishedSuccessOutcome()
    )
    out.append(encoder.encode(finished))
    return "".join(out).encode()


def pydantic_ai(toks: list[str]) -> bytes:
    from pydantic_ai.messages import (
        PartDeltaEvent,
        PartEndEvent,
        PartStartEvent,
        TextPart,
        TextPartDelta,
    )
    from pydantic_ai.ui.ag_ui import AGUIEventStream

    async def events() -> AsyncIterator[Any]:
        yield PartStartEvent(index=0, part=TextPart(content=toks[0]))
        for tok in toks[1:]:
            yield PartDeltaEvent(index=0, delta=TextPartDelta(content_delta=tok))
        yield PartEndEvent(index=0, part=TextPart(content="".join(toks)))

    async def body() -> bytes:
        stream = AGUIEventStream(ag_ui_version="1.0")
        parts = [part async for part in stream.encode_stream(stream.transform_stream(events()))]
        return "".join(parts).encode()

    return asyncio.run(body())


RUNNERS: dict[str, Callable[[list[str]], bytes]] = {
    "ours-encoder": ours_encoder,
    "ours-run": ours_run,
    "ag-ui-protocol": ag_ui_protocol,
    "pydantic-ai": pydantic_ai,
}


def verify(body: bytes, toks: list[str]) -> str | None:
    """What is wrong with ``body`` (None: it decodes to exactly the tokens' text)."""
    from assistant_stream_ce.accumulator import accumulate
    from assistant_stream_ce.serialization.ag_ui import AGUIDecoder

    message = accumulate(AGUIDecoder().decode(body))
    if message.text != "".join(toks):
        return f"decoded text differs ({len(message.text)} vs {len(''.join(toks))} characters)"
    if message.errors:
        return f"errors: {message.errors}"
    return None


def canonical(body: bytes) -> str:
    """A digest of ``body`` with its thread, run and message ids replaced by placeholders
    (equal digests: the same bytes but for the random ids)."""
    first = [json.loads(frame[6:]) for frame in body.split(b"\n\n", 2)[:2]]
    ids = [first[0].get("threadId"), first[0].get("runId"), first[1].get("messageId")]
    for number, value in enumerate(ids):
        if isinstance(value, str) and value:
            body = body.replace(value.encode(), f"<id{number}>".encode())
    return hashlib.sha256(body).hexdigest()


def worker(impl: str, count: int) -> dict[str, Any]:
    """One measurement in this process: warm up, then time one full encoding."""
    toks = tokens(count)
    runner = RUNNERS[impl]
    runner(tokens(min(count, 2000)))
    started, cpu_started = time.perf_counter(), time.process_time()
    body = runner(toks)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "frames": body.count(b"\n\n"),
        "bytes": len(body),
        "problem": verify(body, toks),
        "digest": canonical(body),
    }


def measure(impl: str, count: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", impl, "--tokens", str(count)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


# -- HTTP: server CPU per stream ----------------------------------------------------------------

_MINIMAL_HEAD = (
    b'data: {"type":"RUN_STARTED","threadId":"t","runId":"r","protocolVersion":"1.0"}\n\n'
    b'data: {"type":"TEXT_MESSAGE_START","messageId":"m","role":"assistant"}\n\n'
)
_MINIMAL_PREFIX = b'data: {"type":"TEXT_MESSAGE_CONTENT","messageId":"m","delta":'
_MINIMAL_TAIL = (
    b'data: {"type":"TEXT_MESSAGE_END","messageId":"m"}\n\n'
    b'data: {"type":"RUN_FINISHED","threadId":"t","runId":"r"}\n\n'
)


def serve(count: int) -> None:
    """The benchmark server: ``POST /ours`` and ``POST /minimal`` (prints ``PORT <n>``)."""
    import socket

    import orjson
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    from assistant_stream_ce import RunController, create_run
    from assistant_stream_ce.serialization.ag_ui import AGUIResponse

    toks = tokens(count)

    async def run(controller: RunController) -> None:
        append, sleep = controller.append_text, asyncio.sleep
        for tok in toks:
            append(tok)
            await sleep(0)

    async def minimal_frames() -> AsyncIterator[bytes]:
        dumps, sleep = orjson.dumps, asyncio.sleep
        yield _MINIMAL_HEAD
        for tok in toks:
            yield _MINIMAL_PREFIX + dumps(tok) + b"}\n\n"
            await sleep(0)
        yield _MINIMAL_TAIL

    async def ours(request: Request) -> Response:
        return AGUIResponse(create_run(run))

    async def ours_unmerged(request: Request) -> Response:
        # every delta written as soon as it is ready: no write coalescing, no delta merging
        return AGUIResponse(create_run(run, coalesce=False), write_interval=0)

    async def minimal(request: Request) -> Response:
        return StreamingResponse(minimal_frames(), media_type="text/event-stream")

    app = Starlette(
        routes=[
            Route("/ours", ours, methods=["POST"]),
            Route("/ours-unmerged", ours_unmerged, methods=["POST"]),
            Route("/minimal", minimal, methods=["POST"]),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", loop="asyncio")
    uvicorn.Server(config).run(sockets=[sock])


def _server_cpu(pid: int) -> float:
    import os

    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                total += int(handle.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


def http_cpu(count: int, reps: int) -> dict[str, dict[str, Any]]:
    """Server CPU seconds per stream for ours and the minimal baseline."""
    import httpx

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--http-tokens", str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        toks = tokens(count)
        results: dict[str, list[tuple[float, int, str | None]]] = {
            "ours": [],
            "ours-unmerged": [],
            "minimal": [],
        }
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for name in results:  # warm-up
                client.post(f"/{name}").raise_for_status()
            for _ in range(reps):
                for name, runs in results.items():
                    before = _server_cpu(server.pid)
                    with client.stream("POST", f"/{name}") as response:
                        body = b"".join(response.iter_bytes())
                    time.sleep(0.05)  # the server's cleanup counts too
                    runs.append((_server_cpu(server.pid) - before, body.count(b"\n\n"), None))
                    problem = verify(body, toks)
                    if problem:
                        runs[-1] = (runs[-1][0], runs[-1][1], problem)
    finally:
        server.terminate()
        server.wait(10)
    return {
        name: {
            "cpu_s": statistics.median(cpu for cpu, _, _ in runs),
            "frames": runs[0][1],
            "problem": next((p for _, _, p in runs if p), None),
        }
        for name, runs in results.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--impls", default=",".join(IMPLS))
    parser.add_argument("--json", help="write the raw results to this path")
    parser.add_argument("--http", action="store_true", help="also measure server CPU per stream")
    parser.add_argument("--http-tokens", type=int, default=20_000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.tokens)))
        return 0
    if args.serve:
        serve(args.http_tokens)
        return 0
    impls = [name for name in args.impls.split(",") if name]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in impls}
    for _ in range(args.reps):  # interleaved, so machine drift hits every implementation alike
        for name in impls:
            runs[name].append(measure(name, args.tokens))
    rows: dict[str, dict[str, Any]] = {}
    for name, results in runs.items():
        good = [r for r in results if "error" not in r]
        if not good:
            rows[name] = {"error": results[0]["error"]}
            continue
        seconds = statistics.median(r["seconds"] for r in good)
        cpu_seconds = statistics.median(r["cpu_seconds"] for r in good)
        rows[name] = {
            "tokens_per_s": args.tokens / seconds,
            "cpu_tokens_per_s": args.tokens / cpu_seconds if cpu_seconds else None,
            "frames": good[0]["frames"],
            "bytes": good[0]["bytes"],
            "problem": next((r["problem"] for r in good if r["problem"]), None),
            "digests": sorted({r["digest"] for r in good}),
            "seconds": [r.get("seconds") for r in results],
        }
    base = rows.get("ours-encoder", {}).get("tokens_per_s")
    cpu_base = rows.get("ours-encoder", {}).get("cpu_tokens_per_s")
    ours_digests = rows.get("ours-encoder", {}).get("digests")
    ours_seconds = rows.get("ours-encoder", {}).get("seconds")
    print(f"AG-UI encoding, {args.tokens:,} tokens, median of {args.reps} (tokens/s)\n")
    print(
        f"| {'implementation':<16} | {'tokens/s':>12} | {'ours-encoder ÷ it':>18} | "
        f"{'per repetition':>14} | {'CPU time':>8} | {'frames':>8} | {'bytes':>10} | output |"
    )
    print(
        f"|{'-' * 18}|{'-' * 14}:|{'-' * 20}:|{'-' * 16}:|{'-' * 10}:|{'-' * 9}:|{'-' * 11}:"
        f"|{'-' * 8}|"
    )
    for name, row in rows.items():
        if "error" in row:
            print(
                f"| {name:<16} | {'—':>12} | {'—':>18} | {'—':>14} | {'—':>8} | {'—':>8} | "
                f"{'—':>10} | not run: {row['error']} |"
            )
            continue
        ratio = f"{base / row['tokens_per_s']:.1f}x" if base else "—"
        cpu = row["cpu_tokens_per_s"]
        cpu_ratio = f"{cpu_base / cpu:.1f}x" if cpu_base and cpu else "—"
        # the ratio within each repetition (the implementations ran one after the other)
        per_rep = [
            theirs / ours
            for ours, theirs in zip(ours_seconds or [], row["seconds"], strict=False)
            if ours and theirs
        ]
        spread = f"{min(per_rep):.1f}–{max(per_rep):.1f}x" if per_rep else "—"
        check = "ok" if row["problem"] is None else f"! {row['problem']}"
        if check == "ok" and ours_digests and name != "ours-encoder":
            # the same bytes as ours-encoder, ids aside (pydantic-ai adds timestamps)
            same = row["digests"] == ours_digests and len(ours_digests) == 1
            check += ", same bytes" if same else ", other bytes"
        print(
            f"| {name:<16} | {row['tokens_per_s']:>12,.0f} | {ratio:>18} | {spread:>14} | "
            f"{cpu_ratio:>8} | {row['frames']:>8,} | {row['bytes']:>10,} | {check} |"
        )
    http: dict[str, dict[str, Any]] = {}
    if args.http:
        http = http_cpu(args.http_tokens, args.reps)
        minimal_cpu = http["minimal"]["cpu_s"]
        print(
            f"\nServer CPU per HTTP stream, {args.http_tokens:,} tokens, sleep(0) after each, "
            f"median of {args.reps}\n"
        )
        print(f"| {'server':<13} | {'CPU s':>7} | {'÷ minimal':>9} | {'frames':>8} | output |")
        print(f"|{'-' * 15}|{'-' * 8}:|{'-' * 10}:|{'-' * 9}:|{'-' * 8}|")
        for name, row in http.items():
            check = "ok" if row["problem"] is None else f"! {row['problem']}"
            print(
                f"| {name:<13} | {row['cpu_s']:>7.3f} | {row['cpu_s'] / minimal_cpu:>8.2f}x | "
                f"{row['frames']:>8,} | {check} |"
            )
    if args.json:
        with open(args.json, "w") as handle:
            report = {"tokens": args.tokens, "reps": args.reps, "rows": rows, "http": http}
            json.dump(report, handle, indent=2)
    problems = [name for name, row in [*rows.items(), *http.items()] if row.get("problem")]
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
