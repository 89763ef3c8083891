"""UI message stream encoding, in process: ours against pydantic-ai's Vercel AI event stream.

Both encode the same token stream (N ~4-character text deltas) into one ``text-delta`` SSE
frame per token, and the whole output is consumed. Run with ``benchmarks/ui_message_stream.sh``
(which installs pydantic-ai-slim into its own venv; the library never depends on it).

- **ours / encoder**: `UIMessageStreamEncoder.encode_frames`, one call per token (the worst
  case: a batch per token), then ``finish_frames``.
- **ours / iter_bytes**: the whole pipeline a response runs (chunk buffer, drive loop, encoder)
  over an async generator of chunks, without merging deltas (one frame per token).
- **pydantic-ai**: ``VercelAIEventStream.transform_stream`` + ``encode_stream`` over an async
  generator of ``PartStartEvent`` / ``PartDeltaEvent`` / ``PartEndEvent`` (built beforehand).

Each figure is the median of ``--reps`` runs; every output is checked to carry the same text.

``--http`` also measures server CPU per HTTP stream through uvicorn (one process, 127.0.0.1):
`UIMessageStreamResponse` with default settings against a Starlette ``StreamingResponse`` over
a minimal async generator yielding the same frames (the floor), for a callback that never
awaits and one that awaits ``asyncio.sleep(0)`` after every token. The server reports its own
``time.process_time()`` before and after each stream.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from assistant_stream_ce import TextDeltaChunk
from assistant_stream_ce.serialization.ui_message_stream import UIMessageStreamEncoder

WORDS = ["the ", "cat ", "sat ", "on ", "a ", "mat, ", "and ", "then ", "it ", "slept. "]


def tokens(count: int) -> list[str]:
    return [WORDS[i % len(WORDS)] for i in range(count)]


def text_of(body: str) -> str:
    """The text a UI message stream body carries (its text-delta frames joined)."""
    out = []
    for block in body.split("\n\n"):
        if block.startswith("data: {"):
            value = json.loads(block[6:])
            if value["type"] == "text-delta":
                out.append(value["delta"])
    return "".join(out)


async def ours_encoder(toks: list[str]) -> tuple[float, str]:
    chunks = [TextDeltaChunk(tok) for tok in toks]
    encoder = UIMessageStreamEncoder()
    out: list[bytes] = []
    started = time.perf_counter()
    encode = encoder.encode_frames
    for chunk in chunks:
        out += encode([chunk])
    out += encoder.finish_frames()
    body = b"".join(out)
    elapsed = time.perf_counter() - started
    return elapsed, body.decode()


async def ours_iter_bytes(toks: list[str]) -> tuple[float, str]:
    from assistant_stream_ce._source import IterableSource

    chunks = [TextDeltaChunk(tok) for tok in toks]

    async def source() -> AsyncIterator[Any]:
        for chunk in chunks:
            yield chunk

    encoder = UIMessageStreamEncoder()
    out: list[bytes] = []
    started = time.perf_counter()
    async for piece in encoder.iter_bytes(IterableSource(source(), coalesce=False)):  # type: ignore[arg-type]
        out.append(piece)
    elapsed = time.perf_counter() - started
    return elapsed, b"".join(out).decode()


async def pydantic_ai(toks: list[str]) -> tuple[float, str]:
    from pydantic_ai.messages import (
        PartDeltaEvent,
        PartEndEvent,
        PartStartEvent,
        TextPart,
        TextPartDelta,
    )
    from pydantic_ai.ui.vercel_ai import VercelAIEventStream

    events: list[Any] = [PartStartEvent(index=0, part=TextPart(content=""))]
    events += [PartDeltaEvent(index=0, delta=TextPartDelta(content_delta=tok)) for tok in toks]
    events.append(PartEndEvent(index=0, part=TextPart(content="".join(toks))))

    async def source() -> AsyncIterator[Any]:
        for event in events:
            yield event

    stream = VercelAIEventStream(sdk_version=5)
    out: list[str] = []
    started = time.perf_counter()
    async for frame in stream.encode_stream(stream.transform_stream(source())):
        out.append(frame)
    elapsed = time.perf_counter() - started
    return elapsed, "".join(out)


IMPLEMENTATIONS: dict[str, Callable[[list[str]], Coroutine[Any, Any, tuple[float, str]]]] = {
    "ours / encoder": ours_encoder,
    "ours / iter_bytes": ours_iter_bytes,
    "pydantic-ai VercelAIEventStream": pydantic_ai,
}


# -- HTTP: server CPU per stream -------------------------------------------------------------


def server_app() -> Any:
    import orjson
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    from assistant_stream_ce import RunController, create_run
    from assistant_stream_ce.serialization.ui_message_stream import UIMessageStreamResponse

    head = [
        b'data: {"type":"start","messageId":"m"}\n\n',
        b'data: {"type":"start-step"}\n\n',
        b'data: {"type":"text-start","id":"t1"}\n\n',
    ]
    tail = [
        b'data: {"type":"text-end","id":"t1"}\n\n',
        b'data: {"type":"finish-step"}\n\n',
        b'data: {"type":"finish","finishReason":"stop"}\n\n',
        b"data: [DONE]\n\n",
    ]

    async def cpu(request: Request) -> Response:
        return JSONResponse({"cpu": time.process_time()})

    async def ours(request: Request) -> Response:
        toks = tokens(int(request.query_params["n"]))
        pause = request.query_params["await"] == "1"

        async def run(controller: RunController) -> None:
            for tok in toks:
                controller.append_text(tok)
                if pause:
                    await asyncio.sleep(0)

        return UIMessageStreamResponse(create_run(run))

    async def minimal(request: Request) -> Response:
        toks = tokens(int(request.query_params["n"]))
        pause = request.query_params["await"] == "1"
        prefix = b'data: {"type":"text-delta","id":"t1","delta":'

        async def frames() -> AsyncIterator[bytes]:
            for frame in head:
                yield frame
            for tok in toks:
                yield prefix + orjson.dumps(tok) + b"}\n\n"
                if pause:
                    await asyncio.sleep(0)
            for frame in tail:
                yield frame

        return StreamingResponse(frames(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/cpu", cpu),
            Route("/ours", ours, methods=["POST"]),
            Route("/minimal", minimal, methods=["POST"]),
        ]
    )


def serve() -> None:
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(server_app(), log_level="warning", lifespan="off", loop="asyncio")
    uvicorn.Server(config).run(sockets=[sock])


def http_rows(count: int, reps: int) -> None:
    import subprocess
    import sys

    import httpx

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        base = f"http://127.0.0.1:{port}"
        expected = "".join(tokens(count))
        cpu: dict[tuple[str, str], list[float]] = {}
        writes: dict[tuple[str, str], int] = {}
        with httpx.Client(timeout=120) as client:
            for _ in range(reps + 1):  # the first round warms up
                for variant in ("0", "1"):
                    for impl in ("ours", "minimal"):
                        before = client.get(f"{base}/cpu").json()["cpu"]
                        pieces: list[bytes] = []
                        with client.stream(
                            "POST", f"{base}/{impl}?n={count}&await={variant}"
                        ) as response:
                            pieces.extend(response.iter_raw())
                        after = client.get(f"{base}/cpu").json()["cpu"]
                        if text_of(b"".join(pieces).decode()) != expected:
                            raise SystemExit(f"! verification failed for {impl} over HTTP")
                        cpu.setdefault((impl, variant), []).append(after - before)
                        writes[(impl, variant)] = len(pieces)
        print(
            f"\none HTTP stream of {count:,} tokens through uvicorn; server CPU, median of {reps}"
        )
        print(
            f"{'callback':14} {'ours ms':>9} {'minimal ms':>11} {'ours/minimal':>13} {'reads':>13}"
        )
        for variant, label in (("0", "no-await"), ("1", "await-sleep0")):
            ours = statistics.median(cpu[("ours", variant)][1:]) * 1000
            floor = statistics.median(cpu[("minimal", variant)][1:]) * 1000
            reads = f"{writes[('ours', variant)]}/{writes[('minimal', variant)]}"
            print(f"{label:14} {ours:9.1f} {floor:11.1f} {ours / floor:12.2f}x {reads:>13}")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--http", type=int, default=0, metavar="N", help="tokens per HTTP stream")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    toks = tokens(args.tokens)
    expected = "".join(toks)
    rates: dict[str, list[float]] = {name: [] for name in IMPLEMENTATIONS}
    sizes: dict[str, int] = {}
    for name, run in IMPLEMENTATIONS.items():  # warm-up and check
        _, body = asyncio.run(run(toks[:1000]))
        assert text_of(body) == "".join(toks[:1000]), f"{name}: wrong text"
    for _ in range(args.reps):
        for name, run in IMPLEMENTATIONS.items():
            gc.collect()
            elapsed, body = asyncio.run(run(toks))
            if text_of(body) != expected:
                raise SystemExit(f"! verification failed for {name}")
            rates[name].append(len(toks) / elapsed)
            sizes[name] = len(body.encode())
    baseline = statistics.median(rates["pydantic-ai VercelAIEventStream"])
    print(f"{len(toks):,} text deltas, median of {args.reps}; one text-delta frame per token")
    print(f"{'implementation':34} {'tokens/s':>12} {'vs pydantic-ai':>15} {'bytes':>11}")
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"{name:34} {rate:12,.0f} {rate / baseline:14.1f}x {sizes[name]:11,}")
    if args.http:
        http_rows(args.http, args.reps)


if __name__ == "__main__":
    main()
