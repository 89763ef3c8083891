"""Every response class over real HTTP: uvicorn on 127.0.0.1, real sockets."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce import ErrorChunk, RunController, create_run
from assistant_stream_ce.serialization import PROTOCOLS as REGISTRY
from assistant_stream_ce.serialization.assistant_stream_response import AssistantStreamResponse

pytestmark = pytest.mark.http

# Every registered protocol, read from the registry.
RESPONSES: dict[str, type[AssistantStreamResponse]] = {
    name: info.response for name, info in REGISTRY.items()
}
PROTOCOLS = list(RESPONSES)


def _ending(name: str, error: str | None = None) -> bytes:
    """What a complete body ends with (after ``error``, if given): its last frame's end."""
    info = REGISTRY[name]
    encoder = info.encoder()
    frames = [] if error is None else encoder.encode_frames([ErrorChunk(error)])
    last = (frames + encoder.finish_frames(failed=error is not None))[-1]
    return last[last.rindex(b"data: ") :] if info.sse else b"\n"


def ends_like(body: bytes, ending: bytes) -> bool:
    """Whether ``body`` ends with ``ending``, or (for an SSE ending whose JSON carries
    per-stream ids or usage, as AG-UI's ``RUN_FINISHED``) with an event of the same type."""
    if body.endswith(ending):
        return True
    if not ending.startswith(b"data: {"):
        return False
    last = body[body.rfind(b"data: ") :]
    try:
        ours, expected = json.loads(last[6:]), json.loads(ending[6:])
    except ValueError:
        return False
    return bool(last.endswith(b"\n\n") and ours.get("type") == expected.get("type"))


ENDINGS = {name: _ending(name) for name in PROTOCOLS}
ENDINGS_AFTER_ERROR = {name: _ending(name, "boom in the run") for name in PROTOCOLS}
# The keepalive as it appears in a body (after a data-stream line's own newline).
KEEPALIVES = {
    name: (b"" if info.sse else b"\n") + info.encoder.keepalive for name, info in REGISTRY.items()
}


class Recorder:
    """What the server-side runs observed, with monotonic timestamps."""

    def __init__(self) -> None:
        self.events: dict[str, float] = {}
        self.cancelled = threading.Event()
        self.release = threading.Event()

    def mark(self, name: str) -> None:
        self.events[name] = time.monotonic()


def make_app(
    recorder: Recorder,
    *,
    middleware: list[Middleware] | None = None,
    response_options: dict[str, Any] | None = None,
) -> Starlette:
    options = response_options or {}

    async def scenario(controller: RunController, name: str) -> None:
        if name == "idle":
            controller.append_text("start")
            await asyncio.sleep(0.6)
            controller.append_text("end")
        elif name == "wait-cancel":
            controller.append_text("first")
            recorder.mark("first-sent")
            try:
                await controller.cancelled_event.wait()
                recorder.mark("cancelled")
                recorder.cancelled.set()
            finally:
                recorder.mark("callback-exit")
        elif name == "stuck":
            controller.append_text("first")
            await asyncio.sleep(60)
        elif name == "raise":
            controller.append_text("partial")
            tool = await controller.add_tool_call("t", "call_1")
            tool.append_args_text('{"a":')
            await asyncio.sleep(0.01)
            raise RuntimeError("boom in the run")
        elif name == "blocked":
            controller.append_text("first frame")
            while not recorder.release.is_set():  # noqa: ASYNC110 (a threading.Event)
                await asyncio.sleep(0.01)
            controller.append_text("after release")
        elif name == "firehose":
            piece = "x" * 20_000
            try:
                for _ in range(20_000):  # ~20 s at model-like pace unless cancelled
                    controller.append_text(piece)
                    await asyncio.sleep(0.001)
                    if controller.is_cancelled:
                        recorder.mark("cancelled")
                        recorder.cancelled.set()
                        return
            except asyncio.CancelledError:
                recorder.mark("cancelled")
                recorder.cancelled.set()
                raise
        else:
            controller.append_text("Hello")
            controller.add_step_finish("stop", 3, 4)

    async def endpoint(request: Request) -> Response:
        protocol = request.path_params["protocol"]
        name = request.query_params.get("scenario", "hello")

        async def run(controller: RunController) -> None:
            await scenario(controller, name)

        return RESPONSES[protocol](create_run(run), **options)

    return Starlette(
        routes=[Route("/stream/{protocol}", endpoint, methods=["GET", "POST"])],
        middleware=middleware or [],
    )


def raw_request(port: int, path: str, *, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
        f"Content-Type: application/json\r\n\r\n{{}}".encode()
    )
    return sock


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        piece = sock.recv(65536)
        if not piece:
            raise AssertionError(f"connection closed before {marker!r}: {data!r}")
        data += piece
    return data


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(live_server: Callable[[Any], LiveServer], recorder: Recorder) -> LiveServer:
    return live_server(make_app(recorder))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_headers(server: LiveServer, protocol: str) -> None:
    response = httpx.post(server.url(f"/stream/{protocol}"), json={}, timeout=10)
    assert response.status_code == 200
    headers = response.headers
    info = REGISTRY[protocol]
    assert headers["content-type"].split(";")[0] == info.media_type
    assert headers["cache-control"] == "no-cache, no-transform"
    assert headers["x-accel-buffering"] == "no"
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-length" not in headers
    if info.marker is not None:
        name, value = info.marker
        assert headers[name] == value
        assert name in headers["access-control-expose-headers"]
    assert ends_like(response.content, ENDINGS[protocol])
    assert b"Hello" in response.content


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_keepalive_arrives_during_an_idle_run(
    live_server: Callable[[Any], LiveServer], recorder: Recorder, protocol: str
) -> None:
    server = live_server(make_app(recorder, response_options={"heartbeat": 0.15}))
    body = httpx.post(server.url(f"/stream/{protocol}?scenario=idle"), json={}, timeout=10).content
    assert KEEPALIVES[protocol] in body
    assert ends_like(body, ENDINGS[protocol])
    if REGISTRY[protocol].sse:
        # never an event a client would parse: only comment lines besides data (and id) lines
        for block in body.decode().split("\n\n"):
            assert block == "" or block.startswith(("data: ", "id: ", ": ")), block


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_keepalive_can_be_turned_off(
    live_server: Callable[[Any], LiveServer], recorder: Recorder, protocol: str
) -> None:
    server = live_server(make_app(recorder, response_options={"heartbeat": False}))
    body = httpx.post(server.url(f"/stream/{protocol}?scenario=idle"), json={}, timeout=10).content
    assert KEEPALIVES[protocol] not in body


@pytest.mark.parametrize("response_class", list(RESPONSES.values()))
@pytest.mark.parametrize("heartbeat", [-1, -0.5, math.inf, math.nan])
def test_bad_heartbeat_intervals_are_rejected(
    response_class: type[AssistantStreamResponse], heartbeat: float
) -> None:
    async def run(controller: RunController) -> None:
        pass

    with pytest.raises(ValueError, match="heartbeat"):
        response_class(create_run(run), heartbeat)  # type: ignore[call-arg]


@pytest.mark.parametrize("response_class", list(RESPONSES.values()))
@pytest.mark.parametrize("send_timeout", [0, -1, math.inf])
def test_bad_send_timeouts_are_rejected(
    response_class: type[AssistantStreamResponse], send_timeout: float
) -> None:
    async def run(controller: RunController) -> None:
        pass

    with pytest.raises(ValueError, match="send_timeout"):
        response_class(create_run(run), send_timeout=send_timeout)  # type: ignore[call-arg]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_client_close_cancels_the_run_within_100_ms(
    server: LiveServer, recorder: Recorder, protocol: str
) -> None:
    sock = raw_request(server.port, f"/stream/{protocol}?scenario=wait-cancel")
    read_until(sock, b"first")
    time.sleep(0.05)
    closed_at = time.monotonic()
    sock.close()
    assert recorder.cancelled.wait(2), "the run never saw the disconnect"
    assert recorder.events["cancelled"] - closed_at < 0.1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_task_count_returns_to_baseline_after_many_aborted_streams(
    server: LiveServer, protocol: str
) -> None:
    httpx.post(server.url(f"/stream/{protocol}"), json={}, timeout=10)  # warm up
    time.sleep(0.1)
    baseline = server.task_count()
    for _ in range(40):
        sock = raw_request(server.port, f"/stream/{protocol}?scenario=stuck")
        read_until(sock, b"first")
        sock.close()
    deadline = time.monotonic() + 5
    while server.task_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.task_count() <= baseline


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_run_that_raises_still_ends_the_body_properly(
    server: LiveServer, protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    with httpx.Client(timeout=10) as client:
        response = client.post(server.url(f"/stream/{protocol}?scenario=raise"), json={})
    # httpx raises on a body torn down mid-transfer; reaching here means a clean chunked end.
    body = response.content
    assert b"boom in the run" in body
    assert ends_like(body, ENDINGS_AFTER_ERROR[protocol])
    assert any("run failed" in r.getMessage() and r.exc_info for r in caplog.records)


class Passthrough(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["x-passthrough"] = "1"
        return response


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_first_frame_is_prompt_behind_gzip_and_base_http_middleware(
    live_server: Callable[[Any], LiveServer], recorder: Recorder, protocol: str
) -> None:
    app = make_app(
        recorder, middleware=[Middleware(GZipMiddleware, minimum_size=10), Middleware(Passthrough)]
    )
    server = live_server(app)
    started = time.monotonic()
    with (
        httpx.Client(timeout=5, headers={"accept-encoding": "gzip"}) as client,
        client.stream("POST", server.url(f"/stream/{protocol}?scenario=blocked"), json={}) as r,
    ):
        assert r.headers["x-passthrough"] == "1"
        pieces = r.iter_bytes()
        received = b""
        for piece in pieces:
            received += piece
            if b"first frame" in received:
                break
        first_frame_after = time.monotonic() - started
        recorder.release.set()
        for piece in pieces:
            received += piece
    assert first_frame_after < 1.0
    assert ends_like(received, ENDINGS[protocol])
    assert b"after release" in received


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_client_that_stops_reading_does_not_pin_the_run(
    live_server: Callable[[Any], LiveServer], recorder: Recorder, protocol: str
) -> None:
    server = live_server(make_app(recorder, response_options={"send_timeout": 0.5}))
    sock = raw_request(server.port, f"/stream/{protocol}?scenario=firehose", rcvbuf=4096)
    read_until(sock, b"\r\n\r\n")
    try:
        # We never read again (and never close) while the server keeps producing.
        assert recorder.cancelled.wait(15), "the run was never cancelled"
    finally:
        sock.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_disconnect_behind_middleware_ends_the_request_cleanly(
    live_server: Callable[[Any], LiveServer],
    recorder: Recorder,
    protocol: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The write is cancelled inside the request's own task (BaseHTTPMiddleware runs it in an
    anyio task group): the run stops, nothing is logged as an application error, and every
    task ends."""
    app = make_app(
        recorder, middleware=[Middleware(GZipMiddleware, minimum_size=10), Middleware(Passthrough)]
    )
    server = live_server(app)
    httpx.post(server.url(f"/stream/{protocol}"), json={}, timeout=10)  # warm up
    time.sleep(0.1)
    baseline = server.task_count()
    sock = raw_request(server.port, f"/stream/{protocol}?scenario=wait-cancel")
    read_until(sock, b"\r\n\r\n")
    sock.close()
    assert recorder.cancelled.wait(2), "the run never saw the disconnect"
    deadline = time.monotonic() + 5
    while server.task_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.task_count() <= baseline
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not errors, [r.getMessage() for r in errors]
