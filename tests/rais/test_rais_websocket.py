"""The RAIS WebSocket transport with the ``websockets`` client against uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from _rais_upstream import FakeUpstream
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from _live import LiveServer
from rais import rais_event, serve_websocket, websocket_endpoint

pytestmark = pytest.mark.http

KEY = "sk-ws-Hx83Jd72Ks61La50"
HI = {"messages": [{"role": "user", "content": "Hi"}]}


async def my_stream(request: dict[str, Any]) -> AsyncIterator[str]:
    """The seed's "custom streaming logic", fed by the WebSocket request."""
    for token in ["Echo:", " ", request["messages"][-1]["content"]]:
        yield rais_event({"type": "text", "text": token})
        await asyncio.sleep(0)
    yield rais_event({"type": "done"})


async def custom(websocket: WebSocket) -> None:
    await serve_websocket(websocket, my_stream)


@pytest.fixture(scope="module")
def servers(_upstream_server: FakeUpstream) -> Iterator[dict[str, LiveServer]]:
    fastapi_app = FastAPI()
    fastapi_app.add_api_websocket_route(
        "/ws/offline", websocket_endpoint(provider="offline", pace=0)
    )
    fastapi_app.add_api_websocket_route(
        "/ws/slow",
        websocket_endpoint(
            provider="openai", api_key=KEY, base_url=_upstream_server.openai_base_url("slow")
        ),
    )
    fastapi_app.add_api_websocket_route("/ws/custom", custom)
    starlette_app = Starlette(
        routes=[WebSocketRoute("/ws/offline", websocket_endpoint(provider="offline", pace=0))]
    )
    live = {
        "fastapi": LiveServer(fastapi_app).start(),
        "starlette": LiveServer(starlette_app).start(),
    }
    yield live
    for server in live.values():
        server.stop()


def ws_url(server: LiveServer, path: str) -> str:
    return server.url(path).replace("http://", "ws://")


def receive_all(ws: ClientConnection) -> list[Any]:
    """Frames until the server closes; each must be one JSON text frame."""
    frames: list[Any] = []
    try:
        while True:
            frame = ws.recv(timeout=5)
            assert isinstance(frame, str)
            frames.append(json.loads(frame))
    except ConnectionClosed:
        pass
    return frames


@pytest.mark.parametrize("framework", ["fastapi", "starlette"])
def test_one_request_frame_in_one_json_frame_per_event_out(
    servers: dict[str, LiveServer], framework: str
) -> None:
    with connect(ws_url(servers[framework], "/ws/offline")) as ws:
        ws.send(json.dumps({**HI, "temperature": 0.2}))  # extra fields are allowed
        frames = receive_all(ws)
        assert ws.close_code == 1000
    assert len(frames) > 1
    assert all(frame["type"] == "text" and frame["text"] for frame in frames[:-1])
    assert frames[-1] == {"type": "done"}


def test_custom_streams_built_with_rais_event(servers: dict[str, LiveServer]) -> None:
    with connect(ws_url(servers["fastapi"], "/ws/custom")) as ws:
        ws.send(json.dumps({"messages": [{"role": "user", "content": "ping"}]}))
        frames = receive_all(ws)
    assert frames == [
        {"type": "text", "text": "Echo:"},
        {"type": "text", "text": " "},
        {"type": "text", "text": "ping"},
        {"type": "done"},
    ]


@pytest.mark.parametrize(
    ("request_frame", "message"),
    [
        ("not json", "first message must be a JSON object"),
        ('{"prompt": "Hi"}', "first message must be a JSON object"),
        ('{"messages": ' + "[" * 100_000, "first message must be a JSON object"),
        ('{"messages": [{"role": "robot", "content": "x"}]}', "'robot' is not one of"),
        ('{"messages": []}', "must not be empty"),
    ],
)
def test_a_bad_request_gets_one_error_frame(
    servers: dict[str, LiveServer], request_frame: str, message: str
) -> None:
    with connect(ws_url(servers["fastapi"], "/ws/offline")) as ws:
        ws.send(request_frame)
        frames = receive_all(ws)
        assert ws.close_code == 1000
    assert len(frames) == 1 and frames[0]["type"] == "error"
    assert message in frames[0]["error"]


def test_closing_with_1000_aborts_the_run_and_the_upstream_request(
    servers: dict[str, LiveServer], upstream: FakeUpstream
) -> None:
    server = servers["fastapi"]
    with connect(ws_url(server, "/ws/offline")) as ws:  # warm up
        ws.send(json.dumps(HI))
        receive_all(ws)
    time.sleep(0.05)
    baseline = server.task_count()
    with connect(ws_url(server, "/ws/slow")) as ws:
        ws.send(json.dumps(HI))
        first = json.loads(ws.recv(timeout=5))
        assert first["type"] == "text"
        closed_at = time.monotonic()
        ws.close(1000)
    closed = upstream.fake.wait_closed(2)
    assert closed is not None, "the upstream request was never closed"
    assert closed.time - closed_at < 0.1
    assert closed.events_sent < 20
    deadline = time.monotonic() + 2
    while server.task_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.002)
    assert time.monotonic() - closed_at < 0.1
    assert not upstream.fake.completed
