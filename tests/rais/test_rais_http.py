"""Every RAIS v1 MUST item over real HTTP (uvicorn on 127.0.0.1), for both server styles:

- ``stream_response`` inside FastAPI's ``StreamingResponse`` (the seed's way), and
- ``RAISResponse(create_run(...))`` (our response class),

both streaming from the real SDKs against the fake provider.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _rais_client import assert_v1_lifecycle, reference_events, strict_events
from _rais_upstream import FakeUpstream
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import run_provider
from assistant_stream_ce.serialization.rais import GENERIC_ERROR, RAISResponse
from rais import stream_response

pytestmark = pytest.mark.http

KEY = "sk-live-7fGh2Jk9Lm4Np6Qr8St0Uv"
STYLES = ["stream_response", "RAISResponse"]
QUESTION = {"messages": [{"role": "user", "content": "Hi"}]}


def make_app(upstream: FakeUpstream) -> FastAPI:
    """``POST /{style}/{provider}/{scenario}`` streams the fake's scenario in ``style``.

    The API key is passed by argument unless the query says ``?key=env``.
    """
    app = FastAPI()

    @app.post("/{style}/{provider}/{scenario}")
    async def chat(style: str, provider: str, scenario: str, request: Request) -> Response:
        body = await request.json()
        options: dict[str, Any] = {
            "provider": provider,
            "base_url": upstream.base_url(provider, scenario),
            "api_key": None if request.query_params.get("key") == "env" else KEY,
            **body.get("options", {}),
        }
        if style == "stream_response":
            return StreamingResponse(
                stream_response(body["messages"], **options),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "Connection": "keep-alive"},
            )

        async def run(controller: RunController) -> None:
            await run_provider(controller, body["messages"], **options)

        return RAISResponse(create_run(run), redact=[KEY])

    return app


@pytest.fixture(scope="module")
def server(_upstream_server: FakeUpstream) -> Iterator[LiveServer]:
    live = LiveServer(make_app(_upstream_server)).start()
    yield live
    live.stop()


def post(server: LiveServer, path: str, body: Any = QUESTION) -> httpx.Response:
    return httpx.post(server.url(path), json=body, timeout=10)


def events_of(style: str, response: httpx.Response) -> list[dict[str, Any]]:
    return strict_events(response.content, ids=style == "RAISResponse")


# -- MUST: headers ------------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_must_send_event_stream_and_no_cache_headers(server: LiveServer, style: str) -> None:
    response = post(server, f"/{style}/openai/text")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "text/event-stream"
    assert "no-cache" in response.headers["cache-control"].split(", ")
    assert response.headers["connection"] == "keep-alive"
    assert "content-length" not in response.headers
    if style == "RAISResponse":
        assert response.headers["cache-control"] == "no-cache, no-transform"
        assert response.headers["x-accel-buffering"] == "no"


# -- MUST: framing, done exactly once and last -----------------------------------------------


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_must_frame_each_event_as_one_data_line_and_end_with_one_done(
    server: LiveServer, style: str, provider: str
) -> None:
    response = post(server, f"/{style}/{provider}/text")
    events = events_of(style, response)  # LF only, one `data: <JSON>` line per event
    assert_v1_lifecycle(events)
    assert [e["type"] for e in events].count("done") == 1
    assert events[-1] == {"type": "done"}
    assert "".join(e.get("text", "") for e in events) == "Hello from the fake model."
    assert reference_events(response.content) == events  # what useAIChat reads


# -- MUST NOT: reserved types in v1 -------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("scenario", ["reasoning", "tools", "usage"])
def test_must_not_emit_reserved_types(server: LiveServer, style: str, scenario: str) -> None:
    response = post(server, f"/{style}/anthropic/{scenario}")
    events = events_of(style, response)
    assert {e["type"] for e in events} <= {"text", "done"}
    assert events[-1] == {"type": "done"}
    for reserved in (b"reasoning", b"tool_call", b"metadata", b"partial_tool_result"):
        assert b'"type":"' + reserved not in response.content


# -- MUST: errors are an event (not a status), terminal, and safe ------------------------------


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("scenario", "text"), [("midstream-failure", "Hello from"), ("429", ""), ("error-event", "")]
)
def test_must_send_one_error_event_and_nothing_after_it(
    server: LiveServer, style: str, scenario: str, text: str
) -> None:
    response = post(server, f"/{style}/openai/{scenario}")
    assert response.status_code == 200
    events = events_of(style, response)
    assert_v1_lifecycle(events)
    assert events[-1]["type"] == "error"
    assert [e["type"] for e in events].count("error") == 1
    assert "done" not in [e["type"] for e in events]
    if text:
        assert "".join(e.get("text", "") for e in events) == text


def assert_key_absent(body: str, key: str = KEY) -> None:
    for size in range(4, len(key) + 1):
        for start in range(len(key) - size + 1):
            assert key[start : start + size] not in body, key[start : start + size]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("scenario", ["echo-key", "401"])
@pytest.mark.parametrize("key_by_argument", [True, False])
def test_must_not_leak_the_api_key_even_when_the_provider_echoes_it(
    server: LiveServer,
    upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
    style: str,
    provider: str,
    scenario: str,
    key_by_argument: bool,
) -> None:
    query = ""
    if not key_by_argument:
        monkeypatch.setenv("OPENAI_API_KEY" if provider == "openai" else "ANTHROPIC_API_KEY", KEY)
        query = "?key=env"
    response = post(server, f"/{style}/{provider}/{scenario}{query}")
    (request,) = upstream.fake.requests  # the key really went upstream (and came back)
    assert KEY in str(request.headers)
    events = events_of(style, response)
    assert len(events) == 1 and events[0]["type"] == "error"
    assert "authentication" in events[0]["error"].lower()
    assert_key_absent(response.text)
    assert "Traceback" not in response.text


def test_unexpected_exceptions_give_a_generic_message_and_a_server_side_traceback(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    body = {**QUESTION, "options": {"no_such_option": 1}}  # the SDK raises TypeError
    with caplog.at_level(logging.ERROR):
        response = post(server, "/stream_response/openai/text", body)
    assert strict_events(response.content, ids=False) == [{"type": "error", "error": GENERIC_ERROR}]
    assert "no_such_option" not in response.text and "Traceback" not in response.text
    assert any(
        record.exc_info and "no_such_option" in str(record.exc_info[1]) for record in caplog.records
    )


# -- MUST: aborts are propagated and leak nothing ---------------------------------------------


def raw_post(port: int, path: str) -> socket.socket:
    body = b'{"messages":[{"role":"user","content":"Hi"}]}'
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    return sock


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        piece = sock.recv(65536)
        assert piece, f"connection closed before {marker!r}: {data!r}"
        data += piece
    return data


def wait_for_baseline(server: LiveServer, baseline: int, timeout: float) -> float:
    """Seconds until the server loop is back to ``baseline`` tasks (inf if it never is)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.task_count() <= baseline:
            return time.monotonic() - started
        time.sleep(0.002)
    return float("inf")


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_must_close_the_run_and_the_upstream_request_within_100_ms_of_an_abort(
    server: LiveServer, upstream: FakeUpstream, style: str, provider: str
) -> None:
    post(server, f"/{style}/{provider}/text")  # warm up: SDK imported, client code paths loaded
    time.sleep(0.05)
    baseline = server.task_count()
    upstream.fake.reset()
    sock = raw_post(server.port, f"/{style}/{provider}/slow")
    read_until(sock, b'"type":"text"')  # the first token
    aborted_at = time.monotonic()
    sock.close()
    closed = upstream.fake.wait_closed(2)
    assert closed is not None, "the upstream request was never closed"
    assert closed.time - aborted_at < 0.1
    assert closed.events_sent < 20  # the fake stopped early, not after its 400 words
    assert wait_for_baseline(server, baseline, 2) < 0.1  # run, response and SDK tasks all gone


@pytest.mark.parametrize("style", STYLES)
def test_must_not_leak_tasks_after_many_aborted_streams(
    server: LiveServer, upstream: FakeUpstream, style: str
) -> None:
    post(server, f"/{style}/openai/text")
    time.sleep(0.05)
    baseline = server.task_count()
    upstream.fake.reset()
    for _ in range(10):
        sock = raw_post(server.port, f"/{style}/openai/slow")
        read_until(sock, b'"type":"text"')
        sock.close()
    assert wait_for_baseline(server, baseline, 5) < 5
    deadline = time.monotonic() + 2
    while len(upstream.fake.closed_connections) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(upstream.fake.closed_connections) == 10
    assert not upstream.fake.completed
