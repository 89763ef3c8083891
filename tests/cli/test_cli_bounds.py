"""`inspect` and `check` against hostile servers: bounded in time and size, safe to print,
never a traceback (issue 14)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce.cli import main
from assistant_stream_ce.tools._wire import Framer

pytestmark = pytest.mark.http

RAIS = {"Cache-Control": "no-cache"}


def hostile_app() -> Starlette:
    async def endless(request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            deadline = time.monotonic() + 20  # bounded even if the client never stops
            while time.monotonic() < deadline:
                yield b'data: {"type":"text","text":"' + b"x" * 8000 + b'"}\n\n'
                await asyncio.sleep(0.001)

        return StreamingResponse(body(), media_type="text/event-stream", headers=RAIS)

    async def nasty(request: Request) -> Response:
        text = "clear \x1b[2J\x1b]0;owned\x07 csi \x9b31m bell \x07 end"
        events = [
            json.dumps({"type": "text", "text": text}),
            "[" * 5000 + "]" * 5000,
            json.dumps({"type": "done"}),
        ]
        body = "".join(f"data: {event}\n\n" for event in events)
        return Response(body, media_type="text/event-stream", headers=RAIS)

    return Starlette(
        routes=[
            Route("/endless", endless, methods=["POST"]),
            Route("/nasty", nasty, methods=["POST"]),
        ]
    )


@pytest.fixture
def server(live_server: Callable[[Any], LiveServer]) -> LiveServer:
    return live_server(hostile_app())


def test_an_endless_body_stops_at_the_time_limit(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    status = main(["inspect", server.url("/endless"), "-f", "rais", "--json", "--max-time", "1"])
    assert time.monotonic() - started < 6
    assert status == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ended"] == "cut-off" and "--max-time" in report["error"]


def test_an_endless_body_stops_at_the_size_limit(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["inspect", server.url("/endless"), "-f", "rais", "--json", "--max-bytes", "200000"]
    assert main(args) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["bytes"] <= 200_000 and "--max-bytes" in report["error"]


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "soon"])
def test_bad_timeouts_are_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", "http://127.0.0.1:9/x", "--timeout", value])
    assert exit_info.value.code == 2
    assert "expected a positive number of seconds" in capsys.readouterr().err


@pytest.mark.parametrize("as_json", [False, True])
def test_server_text_never_reaches_the_terminal_raw(
    server: LiveServer, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    args = ["inspect", server.url("/nasty"), "-f", "rais"] + (["--json"] if as_json else [])
    assert main(args) in (0, 1)  # judged, not crashed: no traceback on a 5000-deep frame
    out = capsys.readouterr().out
    assert not any(char in out for char in "\x1b\x07\x9b")
    if as_json:
        report = json.loads(out)
        assert "\x1b[2J" in report["message"]["parts"][0]["text"]  # kept, only escaped


def test_a_deeply_nested_data_argument_is_a_clean_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", "http://127.0.0.1:9/x", "--data", "[" * 100_000])
    assert exit_info.value.code == 2
    assert "--data is not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize("sse", [True, False])
def test_the_framer_is_linear_in_a_long_line(sse: bool) -> None:
    framer = Framer(sse)
    line = b"data: " + b"x" * (10 * 1024 * 1024)
    started = time.perf_counter()
    for i in range(0, len(line), 1024):
        assert framer.feed(line[i : i + 1024], 0.0) == []
    frames = framer.feed(b"\n\n", 0.0)
    assert time.perf_counter() - started < 2
    # an SSE event ends at the blank line; a data-stream line at its LF (the blank line after
    # it is a keepalive of its own)
    assert frames[0].size == len(line) + (2 if sse else 1)
    assert len(frames) == (1 if sse else 2)
