"""The command line in-process (``main([...])``) against real uvicorn servers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce.cli import main
from assistant_stream_ce.demo import DemoConfig, create_app
from assistant_stream_ce.serialization import PROTOCOLS

pytestmark = pytest.mark.http

Start = Callable[[Any], LiveServer]


@pytest.fixture
def demo(live_server: Start) -> LiveServer:
    return live_server(create_app(DemoConfig(pace=0.002)))


@pytest.mark.parametrize("command", ["demo", "inspect", "check"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "exit status" in text
    if command == "demo":
        assert "/api/chat/" in text and "--provider" in text
    else:
        assert "--format" in text and "--json" in text


def test_demo_without_an_api_key_fails_fast(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["demo", "--provider", "openai"]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_check_passes_on_every_demo_endpoint(
    demo: LiveServer, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", demo.url(f"/api/chat/{name}"), "--format", name, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["counts"]["fail"] == 0
    ids = {result["id"] for result in report["results"]}
    assert {"content-type", "valid-json", "termination", "nothing-after-end"} <= ids
    assert {"client-abort", "rejects-bad-body", "keepalive"} <= ids
    if name == "rais":
        assert {"rais-reserved-types", "rais-event-ids", "rais-last-event-id"} <= ids


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_inspect_json_counts_what_the_run_wrote(
    demo: LiveServer, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", demo.url(f"/api/chat/{name}"), "-f", name, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    run = httpx.get(demo.url("/api/runs/last"), timeout=5).json()
    assert run["status"] == "completed"
    assert report["frames"] == run["frames"]
    assert report["tokens"] == run["text_deltas"] > 1
    assert report["bytes"] == run["bytes"]
    assert report["keepalives"] == 0 and report["ended"] == "done"
    assert report["first_token_ms"] >= report["first_byte_ms"] > 0
    message = report["message"]
    assert message["errors"] == []
    text = "".join(p.get("text", "") for p in message["parts"] if p["type"] == "text")
    assert text.strip()


def test_inspect_timeline(demo: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.dumps({"messages": [{"role": "user", "content": "Weather in Lyon?"}]})
    assert main(["inspect", demo.url("/api/chat/rais"), "-f", "rais", "--data", data]) == 0
    out = capsys.readouterr().out
    assert " text " in out and " done " in out
    assert "── summary" in out and "ended        done" in out and "── message" in out


# -- deliberately broken endpoints ----------------------------------------------------------

TEXT = b'data: {"type":"text","text":"Hi"}\n\n'
BROKEN: dict[str, tuple[str, str, bytes]] = {
    # name: (format, content type, body)
    "missing-done": ("rais", "text/event-stream", TEXT * 3),
    "after-done": (
        "assistant-transport",
        "text/event-stream",
        b'data: {"type":"part-start","part":{"type":"text"},"path":[]}\n\n'
        b'data: {"type":"text-delta","textDelta":"Hi","path":[0]}\n\n'
        b'data: {"type":"part-finish","path":[0]}\n\n'
        b"data: [DONE]\n\n"
        b'data: {"type":"text-delta","textDelta":"late","path":[0]}\n\n',
    ),
    "wrong-type": ("data-stream", "text/html", b'0:"Hi"\nd:{"finishReason":"stop"}\n'),
    "invalid-json": (
        "openai",
        "text/event-stream",
        b'data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"\n\n'
        b"data: [DONE]\n\n",
    ),
}
FAILED_ITEM = {
    "missing-done": "termination",
    "after-done": "nothing-after-end",
    "wrong-type": "content-type",
    "invalid-json": "valid-json",
}


def broken_app() -> Starlette:
    async def endpoint(request: Request) -> Response:
        _, media_type, body = BROKEN[request.path_params["name"]]
        return Response(
            body,
            media_type=media_type,
            headers={"Cache-Control": "no-cache", "x-vercel-ai-data-stream": "v1"},
        )

    return Starlette(routes=[Route("/{name}", endpoint, methods=["POST"])])


@pytest.mark.parametrize("name", list(BROKEN))
def test_check_fails_on_a_broken_endpoint(
    live_server: Start, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server = live_server(broken_app())
    fmt = BROKEN[name][0]
    assert main(["check", server.url(f"/{name}"), "--format", fmt]) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if " FAIL " in line]
    assert any(f" {FAILED_ITEM[name]} " in line for line in failed), out
    assert out.rstrip().endswith("failed") and " 0 failed" not in out

    assert main(["check", server.url(f"/{name}"), "--format", fmt, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert FAILED_ITEM[name] in {r["id"] for r in report["results"] if r["status"] == "fail"}


def test_unreachable_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "http://127.0.0.1:9/none", "-f", "rais", "--timeout", "2"]) == 2
    assert "could not reach" in capsys.readouterr().out
    assert main(["inspect", "http://127.0.0.1:9/none", "-f", "rais", "--json"]) == 2


def test_bad_data_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", "http://127.0.0.1:9/", "-f", "rais", "--data", "{nope"])
    assert exit_info.value.code == 2
    assert "--data is not valid JSON" in capsys.readouterr().err


def test_the_demo_command_serves_and_logs_its_runs() -> None:
    """`assistant-stream-ce demo` as the README starts it: it serves, and its log says what
    each run did."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    executable = Path(sys.executable).parent / "assistant-stream-ce"
    process = subprocess.Popen(
        [str(executable), "demo", "--port", str(port), "--pace", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/api/formats", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the demo did not start"
                time.sleep(0.1)
        body = {"messages": [{"role": "user", "content": "Hello"}]}
        assert httpx.post(url + "/api/chat/rais", json=body, timeout=10).status_code == 200
        assert httpx.get(url + "/favicon.ico", timeout=5).status_code == 200
        time.sleep(0.2)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"assistant-stream-ce demo on http://127.0.0.1:{port}/" in output
    assert "run 1 (rais) completed" in output
