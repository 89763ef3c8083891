"""The server of `load.py`: every registered protocol, scripted producers, self-reported stats.

``POST /stream/{protocol}?tokens=N&interval=S&burst=K`` streams ``tok0 tok1 …`` (K tokens at a
time, ``interval`` seconds apart) through the protocol's response class (our library);
``&idle=S&heartbeat=H`` first keeps the stream open and silent for S seconds with the response's
heartbeat every H seconds (an idle stream). ``POST /baseline/{protocol}`` with the same
parameters answers with a plain Starlette ``StreamingResponse`` over an async generator that
sleeps, sends the protocol's keepalive, and yields the same frames at the same pace, each
token's frame built from a template with one ``orjson.dumps`` of the token (the floor a
hand-written server pays: no run, no buffer, no encoder, no timers of its own).
``POST /plain/stream/{protocol}`` and ``/plain/baseline/{protocol}`` serve the same responses
straight from the ASGI app, without Starlette's routing and middleware. ``GET /stats`` reports
the process's CPU seconds, RSS, open file descriptors, live asyncio tasks and run outcomes.

Run: ``python benchmarks/_load_server.py PORT [h11|httptools]`` (127.0.0.1 only; uvicorn's HTTP
implementation, h11 by default: httptools is what ``uvicorn[standard]`` installs). With
``LOAD_SERVER_TRACEMALLOC=1`` the process traces its allocations: ``/stats`` then also reports
the traced bytes, and ``GET /tracemalloc?top=N`` the lines that allocated most since start.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import resource
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant_stream_ce import RunController, TextDeltaChunk, create_run
from assistant_stream_ce.serialization import PROTOCOLS
from assistant_stream_ce.serialization.assistant_stream_response import STREAM_HEADERS

OUTCOMES = {"completed": 0, "cancelled": 0}
TRACE = os.environ.get("LOAD_SERVER_TRACEMALLOC") == "1"
_PLACEHOLDER = "\x01tok\x01"


GC_COLLECTIONS = [0, 0, 0]  # garbage collector passes per generation
# [CPU seconds in the collector, start of the pass under way]: the thread's CPU clock, so time
# the process spends descheduled on a busy machine is not counted as collector time.
GC_SECONDS = [0.0, 0.0]


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        GC_SECONDS[1] = time.thread_time()
    else:
        GC_COLLECTIONS[info["generation"]] += 1
        GC_SECONDS[0] += time.thread_time() - GC_SECONDS[1]


gc.callbacks.append(_on_gc)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _params(query: Mapping[str, str]) -> tuple[int, float, int, float, float]:
    tokens = int(query.get("tokens", "100"))
    interval = float(query.get("interval", "0.01"))
    burst = max(1, int(query.get("burst", "1")))
    idle = float(query.get("idle", "0"))
    heartbeat = float(query.get("heartbeat", "0"))
    return tokens, interval, burst, idle, heartbeat


def _words(first: int, count: int) -> str:
    return "".join(f"tok{i} " for i in range(first, first + count))


async def stream(request: Request) -> Response:
    return _stream(request.path_params["protocol"], request.query_params)


def _stream(protocol: str, query: Mapping[str, str]) -> Response:
    info = PROTOCOLS[protocol]
    tokens, interval, burst, idle, heartbeat = _params(query)

    async def run(controller: RunController) -> None:
        try:
            if idle:
                await asyncio.sleep(idle)
            for i in range(tokens):
                controller.append_text(f"tok{i} ")
                if (i + 1) % burst == 0:
                    await asyncio.sleep(interval)
                    if controller.is_cancelled:
                        OUTCOMES["cancelled"] += 1
                        return
        except asyncio.CancelledError:
            OUTCOMES["cancelled"] += 1
            raise
        OUTCOMES["completed"] += 1

    options: dict[str, Any] = dict(info.demo_options)
    if heartbeat:
        options["heartbeat"] = heartbeat
    return info.response(create_run(run), **options)


@functools.cache
def _templates(protocol: str) -> tuple[bytes, bytes, bytes, bytes]:
    """The frames our encoder writes around one delta: (start, delta prefix, delta suffix,
    end). The baseline joins ``prefix + orjson.dumps(text) + suffix`` for every delta."""
    encoder = PROTOCOLS[protocol].encoder()
    placeholder = orjson.dumps(_PLACEHOLDER)
    first = encoder.encode_frames([TextDeltaChunk(_PLACEHOLDER)])
    start = b"".join(frame for frame in first if placeholder not in frame)
    delta = b"".join(encoder.encode_frames([TextDeltaChunk(_PLACEHOLDER)]))
    prefix, suffix = delta.split(placeholder)
    return start, prefix, suffix, b"".join(encoder.finish_frames())


async def baseline(request: Request) -> Response:
    return _baseline(request.path_params["protocol"], request.query_params)


def _baseline(protocol: str, query: Mapping[str, str]) -> Response:
    encoder = PROTOCOLS[protocol].encoder
    tokens, interval, burst, idle, heartbeat = _params(query)
    start, prefix, suffix, end = _templates(protocol)
    keepalive = encoder.keepalive
    dumps = orjson.dumps

    async def body() -> AsyncIterator[bytes]:
        try:
            if idle:
                deadline = time.monotonic() + idle
                while (left := deadline - time.monotonic()) > 0:
                    await asyncio.sleep(min(left, heartbeat) if heartbeat else left)
                    if heartbeat and left > heartbeat:
                        yield keepalive
            for first in range(0, tokens, burst):
                frame = prefix + dumps(_words(first, min(burst, tokens - first))) + suffix
                yield start + frame if first == 0 else frame
                await asyncio.sleep(interval)
            yield end
        except asyncio.CancelledError:
            OUTCOMES["cancelled"] += 1
            raise
        OUTCOMES["completed"] += 1

    headers = {**STREAM_HEADERS, **encoder.headers}
    return StreamingResponse(body(), media_type=encoder.media_type, headers=headers)


async def stats(request: Request) -> Response:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report: dict[str, Any] = {
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss": _rss_bytes(),
        "fds": len(os.listdir("/proc/self/fd")),
        "tasks": len(asyncio.all_tasks()) - 1,
        "outcomes": dict(OUTCOMES),
        "gc": {"collections": list(GC_COLLECTIONS), "seconds": GC_SECONDS[0]},
        "time": time.monotonic(),
    }
    if TRACE:
        report["traced"] = tracemalloc.get_traced_memory()[0]
    return JSONResponse(report)


_START: list[tracemalloc.Snapshot] = []


async def traced(request: Request) -> Response:
    """The source lines that allocated the most since the first call (tracemalloc)."""
    if not TRACE:
        return JSONResponse({"error": "start the server with LOAD_SERVER_TRACEMALLOC=1"})
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    if not _START or request.query_params.get("reset") == "1":
        _START[:] = [snapshot]
        return JSONResponse({"reset": True})
    top = int(request.query_params.get("top", "25"))
    key = request.query_params.get("key", "lineno")  # or "traceback"
    stats = snapshot.compare_to(_START[0], key)[:top]
    return JSONResponse(
        [
            {"where": str(stat.traceback), "bytes": stat.size_diff, "count": stat.count_diff}
            for stat in stats
        ]
    )


_PLAIN = {"/plain/stream/": _stream, "/plain/baseline/": _baseline}


def app() -> ASGIApp:
    routed = Starlette(
        routes=[
            Route("/stream/{protocol}", stream, methods=["POST"]),
            Route("/baseline/{protocol}", baseline, methods=["POST"]),
            Route("/stats", stats, methods=["GET"]),
            Route("/tracemalloc", traced, methods=["GET"]),
        ]
    )

    async def plain_or_routed(scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /plain/stream/{protocol}`` and ``/plain/baseline/{protocol}``: the same
        responses called straight from the ASGI app, without Starlette's routing and
        middleware (what the server and the response cost alone); everything else routed."""
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/plain/"):
            prefix, _, protocol = path.rpartition("/")
            query = dict(parse_qsl(scope["query_string"].decode()))
            response = _PLAIN[prefix + "/"](protocol, query)
            await response(scope, receive, send)
            return
        await routed(scope, receive, send)

    return plain_or_routed


def main(argv: list[str]) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # many concurrent streams
    if TRACE:
        tracemalloc.start(8)
    config: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": int(argv[1]),
        "log_level": "warning",
        "backlog": 4096,  # 10,000 clients connect in bursts
        "timeout_keep_alive": 5,
        "http": argv[2] if len(argv) > 2 else "h11",
    }
    uvicorn.run(app(), **config)


if __name__ == "__main__":
    main(sys.argv)
