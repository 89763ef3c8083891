"""The HTTP benchmark server: one uvicorn process serving one implementation.

Run as a script by ``bench.py``. Environment:

- ``BENCH_IMPL``: ``ours`` | ``anchor`` | ``minimal``
- ``BENCH_HTTP``: uvicorn HTTP implementation (``h11`` | ``httptools``), default ``h11``
- ``BENCH_LOOP``: uvicorn event loop (``asyncio`` | ``uvloop``), default ``asyncio``
- ``BENCH_TTL``: seconds after which the server exits on its own (default 1800)
- ``BENCH_WRITE_INTERVAL``: if set, ``write_interval=`` for our response classes

Binds 127.0.0.1 on an ephemeral port and prints ``PORT <n>`` on stdout. Exits when its
parent dies. Routes: ``GET /ping`` and ``GET /stream?protocol=P&n=N&pause=none|SECONDS&seed=S``
which streams ``make_tokens(N, S)`` as text deltas with the protocol's response class
(default settings) or, for ``minimal``, a Starlette ``StreamingResponse`` over
`minimal_stream`.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import uvicorn
from _common import MEDIA_TYPE, load_impl, make_tokens, minimal_stream, text_callback
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

IMPL_NAME = os.environ.get("BENCH_IMPL", "minimal")
IMPL = None if IMPL_NAME == "minimal" else load_impl(IMPL_NAME)
RESPONSE_OPTIONS: dict[str, Any] = {}
if IMPL_NAME == "ours" and os.environ.get("BENCH_WRITE_INTERVAL"):
    RESPONSE_OPTIONS["write_interval"] = float(os.environ["BENCH_WRITE_INTERVAL"])


def _pause(value: str) -> float | None:
    return None if value == "none" else float(value)


async def ping(request: Request) -> Response:
    return PlainTextResponse(IMPL_NAME)


async def stream(request: Request) -> Response:
    q = request.query_params
    protocol = q["protocol"]
    tokens = make_tokens(int(q["n"]), int(q.get("seed", "0")))
    pause = _pause(q.get("pause", "none"))
    if IMPL is None:
        return StreamingResponse(
            minimal_stream(protocol, tokens, pause), media_type=MEDIA_TYPE[protocol]
        )
    response_cls: Any = IMPL.responses[protocol]
    run = IMPL.create_run(text_callback(tokens, pause))
    return response_cls(run, **RESPONSE_OPTIONS)  # type: ignore[no-any-return]


app = Starlette(routes=[Route("/ping", ping), Route("/stream", stream)])


def _watchdog(parent: int, ttl: float) -> None:
    deadline = time.monotonic() + ttl
    while True:
        time.sleep(0.5)
        if os.getppid() != parent or time.monotonic() > deadline:
            os._exit(0)


def main() -> None:
    parent = os.getppid()
    ttl = float(os.environ.get("BENCH_TTL", "1800"))
    threading.Thread(target=_watchdog, args=(parent, ttl), daemon=True).start()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    print(f"PORT {sock.getsockname()[1]}", flush=True)

    config = uvicorn.Config(
        app,
        http=os.environ.get("BENCH_HTTP", "h11"),
        loop=os.environ.get("BENCH_LOOP", "asyncio"),
        lifespan="off",
        access_log=False,
        log_level="warning",
        backlog=2048,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
