"""One uvicorn worker of a resumable chat app on a shared Redis server, run as its own process.

``python _resumable_worker.py`` binds 127.0.0.1 on a free port, prints the port, and serves:

- ``POST /chat/{id}?n=&pause=&kind=text|data`` start (or join) the run, streamed as the
  assistant transport with SSE ids; the user is the ``x-user`` header (the stream's owner)
- ``GET /chat/{id}/stream`` resume after ``Last-Event-ID`` (204 when there is no stream)
- ``POST /chat/{id}/stop`` stop the run, wherever it runs

A run that notices it was stopped writes the time (``time.time()``) to ``$CANCEL_DIR/<id>``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path

import redis.asyncio as redis
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from assistant_stream_ce.create_run import RunController
from assistant_stream_ce.resumable import (
    create_redis_resumable_stream_store,
    create_resumable_assistant_stream_response,
    create_resumable_stream_context,
    create_resume_assistant_stream_response,
)
from assistant_stream_ce.serialization import AssistantTransportEncoder

CANCEL_DIR = Path(os.environ["CANCEL_DIR"])
client = redis.from_url(os.environ["REDIS_URL"])
store = create_redis_resumable_stream_store(client, key_prefix=os.environ["KEY_PREFIX"])
context = create_resumable_stream_context(store=store)


def _note_stop(stream_id: str) -> None:
    path = CANCEL_DIR / stream_id
    if not path.exists():
        path.write_text(repr(time.time()))


async def chat(request: Request) -> Response:
    stream_id = request.path_params["id"]
    n = int(request.query_params.get("n", "10"))
    pause = float(request.query_params.get("pause", "0"))
    kind = request.query_params.get("kind", "text")

    async def callback(controller: RunController) -> None:
        try:
            for i in range(n):
                if controller.is_cancelled:
                    _note_stop(stream_id)
                    return
                if kind == "data":
                    controller.add_data({"i": i})
                else:
                    controller.append_text(f"t{i} ")
                await asyncio.sleep(pause)
        except asyncio.CancelledError:
            _note_stop(stream_id)
            raise

    return await create_resumable_assistant_stream_response(
        context=context,
        stream_id=stream_id,
        callback=callback,
        encoder=AssistantTransportEncoder(),
        owner=request.headers.get("x-user"),
        event_ids=True,
    )


async def resume(request: Request) -> Response:
    return await create_resume_assistant_stream_response(
        context=context,
        stream_id=request.path_params["id"],
        encoder=AssistantTransportEncoder(),
        owner=request.headers.get("x-user"),
        cursor=request.headers.get("last-event-id"),
        event_ids=True,
        missing_response=lambda: Response(status_code=204),
    )


async def stop(request: Request) -> Response:
    stopped = await context.cancel(request.path_params["id"], owner=request.headers.get("x-user"))
    return JSONResponse({"stopped": stopped})


app = Starlette(
    routes=[
        Route("/chat/{id}", chat, methods=["POST"]),
        Route("/chat/{id}/stream", resume, methods=["GET"]),
        Route("/chat/{id}/stop", stop, methods=["POST"]),
    ]
)


def main() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", loop="asyncio")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
