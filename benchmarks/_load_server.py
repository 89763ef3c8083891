"""The server of `load.py`: every registered protocol, scripted producers, self-reported stats.

``POST /stream/{protocol}?tokens=N&interval=S&burst=K`` streams ``tok0 tok1 …`` (K tokens at a
time, ``interval`` seconds apart); ``GET /stats`` reports the process's CPU seconds, RSS,
open file descriptors, live asyncio tasks and run outcomes.

Run: ``python benchmarks/_load_server.py PORT`` (127.0.0.1 only).
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.serialization import PROTOCOLS

OUTCOMES = {"completed": 0, "cancelled": 0}


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def stream(request: Request) -> Response:
    info = PROTOCOLS[request.path_params["protocol"]]
    tokens = int(request.query_params.get("tokens", "100"))
    interval = float(request.query_params.get("interval", "0.01"))
    burst = max(1, int(request.query_params.get("burst", "1")))

    async def run(controller: RunController) -> None:
        try:
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

    return info.response(create_run(run), **info.demo_options)


async def stats(request: Request) -> Response:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return JSONResponse(
        {
            "cpu": usage.ru_utime + usage.ru_stime,
            "rss": _rss_bytes(),
            "fds": len(os.listdir("/proc/self/fd")),
            "tasks": len(asyncio.all_tasks()) - 1,
            "outcomes": dict(OUTCOMES),
            "time": time.monotonic(),
        }
    )


def app() -> Starlette:
    return Starlette(
        routes=[
            Route("/stream/{protocol}", stream, methods=["POST"]),
            Route("/stats", stats, methods=["GET"]),
        ]
    )


def main(argv: list[str]) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # many concurrent streams
    config: dict[str, Any] = {"host": "127.0.0.1", "port": int(argv[1]), "log_level": "warning"}
    uvicorn.run(app(), **config)


if __name__ == "__main__":
    main(sys.argv)
