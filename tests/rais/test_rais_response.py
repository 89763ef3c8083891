"""RAISResponse over real HTTP: headers, ``id:`` lines, keepalive, Last-Event-ID → 204."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest
from _rais_client import assert_v1_lifecycle, reference_events, strict_events, weather_run
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.serialization.rais import RAISResponse

pytestmark = pytest.mark.http

started_runs: list[str] = []
run_started = threading.Event()


async def endpoint(request: Request) -> Response:
    name = request.query_params.get("run", "weather")

    async def run(controller: RunController) -> None:
        started_runs.append(name)
        run_started.set()
        if name == "idle":
            controller.append_text("start")
            await asyncio.sleep(0.25)
            controller.append_text("end")
        else:
            await weather_run(controller)

    options = {}
    if "heartbeat" in request.query_params:
        options["heartbeat"] = float(request.query_params["heartbeat"])
    extensions = request.query_params.get("extensions") == "1"
    return RAISResponse(create_run(run, state={}), extensions=extensions, **options)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    app = Starlette(routes=[Route("/rais", endpoint, methods=["GET", "POST"])])
    live = LiveServer(app).start()
    yield live
    live.stop()


def test_headers_ids_and_events(server: LiveServer) -> None:
    response = httpx.post(server.url("/rais"), json={}, timeout=10)
    assert response.status_code == 200
    headers = response.headers
    assert headers["content-type"].split(";")[0] == "text/event-stream"
    assert headers["cache-control"] == "no-cache, no-transform"
    assert headers["connection"] == "keep-alive"
    assert headers["x-accel-buffering"] == "no"
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-length" not in headers
    events = strict_events(response.content, ids=True)  # id: 1, 2, 3 before each data line
    assert_v1_lifecycle(events)
    assert response.text.startswith('id: 1\ndata: {"type":"text","text":"Let me check."}\n\n')
    assert reference_events(response.content) == events  # the reference client ignores ids


def test_extensions_over_http(server: LiveServer) -> None:
    response = httpx.post(server.url("/rais?extensions=1"), json={}, timeout=10)
    types = [event["type"] for event in strict_events(response.content, ids=True)]
    assert types == [
        "reasoning",
        "text",
        "tool_call",
        "tool_result",
        "text",
        "done",
        "metadata",
    ]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_reconnect_with_last_event_id_gets_204_and_starts_no_run(
    server: LiveServer, method: str
) -> None:
    started_runs.clear()
    response = httpx.request(
        method, server.url("/rais?run=marker"), headers={"Last-Event-ID": "2"}, timeout=10
    )
    assert response.status_code == 204
    assert response.content == b""
    assert started_runs == []
    # An empty Last-Event-ID is no reconnect (EventSource never sends one).
    response = httpx.post(server.url("/rais"), headers={"Last-Event-ID": ""}, timeout=10)
    assert response.status_code == 200


def test_idle_keepalive_is_a_comment(server: LiveServer) -> None:
    response = httpx.post(server.url("/rais?run=idle&heartbeat=0.05"), json={}, timeout=10)
    assert b": keep-alive\n\n" in response.content
    events = strict_events(response.content, ids=True)
    assert [e.get("text") for e in events] == ["start", "end", None]


def test_keepalive_can_be_turned_off(server: LiveServer) -> None:
    response = httpx.post(server.url("/rais?run=idle&heartbeat=0"), json={}, timeout=10)
    assert b"keep-alive" not in response.content
