"""The demo server over real HTTP: endpoints, validation, run records, static files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from _live import LiveServer
from assistant_stream_ce.demo import DemoConfig, create_app
from assistant_stream_ce.demo.app import STATIC_DIR
from assistant_stream_ce.serialization import PROTOCOLS

pytestmark = pytest.mark.http

HELLO = {"messages": [{"role": "user", "content": "What's the weather in Paris?"}]}


@pytest.fixture
def server(live_server: Callable[[Any], LiveServer]) -> LiveServer:
    return live_server(create_app(DemoConfig(pace=0)))


@pytest.mark.parametrize("name", list(PROTOCOLS))
def test_each_format_streams_and_records_the_run(server: LiveServer, name: str) -> None:
    response = httpx.post(server.url(f"/api/chat/{name}"), json=HELLO, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "text/plain" if name == "data-stream" else "text/event-stream"
    )
    run = httpx.get(server.url("/api/runs/last"), timeout=5).json()
    assert run["format"] == name and run["status"] == "completed"
    assert run["bytes"] == len(response.content)
    assert run["frames"] > run["text_deltas"] > 0


def test_formats_and_stats(server: LiveServer) -> None:
    formats = httpx.get(server.url("/api/formats"), timeout=5).json()
    assert [f["name"] for f in formats["formats"]] == list(PROTOCOLS)
    assert formats["provider"] == "offline"
    assert httpx.get(server.url("/api/runs/last"), timeout=5).status_code == 404
    httpx.post(server.url("/api/chat/rais"), json=HELLO, timeout=10)
    stats = httpx.get(server.url("/api/stats"), timeout=5).json()
    assert stats == {"runs": 1, "running": 0, "completed": 1, "cancelled": 0, "failed": 0}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[]", 422, "'messages'"),
        (b'{"prompt": "hi"}', 422, "'messages'"),
        (b'{"messages": []}', 422, "messages"),
        (b'{"messages": "hi"}', 422, "messages"),
        (b'{"messages": [{"role": "wizard", "content": "hi"}]}', 422, "role"),
        (b'{"messages": [{"role": "user"}]}', 422, "content"),
    ],
)
def test_malformed_bodies_get_a_json_4xx(
    server: LiveServer, body: bytes, status: int, words: str
) -> None:
    for name in PROTOCOLS:
        response = httpx.post(
            server.url(f"/api/chat/{name}"), content=body, timeout=5, headers=JSON
        )
        assert response.status_code == status, (name, response.text)
        assert words in response.json()["error"]
    assert httpx.get(server.url("/api/stats"), timeout=5).json()["runs"] == 0


JSON = {"Content-Type": "application/json"}


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("body", "headers", "status", "words"),
    [
        # a cross-site form POST cannot start a run
        (b'{"messages": [{"role": "user", "content": "hi"}]}', {}, 415, "Content-Type"),
        (
            b"messages=hi",
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            "application/json",
        ),
        ('{"messages": ' + deep(100_000) + "}", JSON, 400, "not valid JSON"),
        (
            '{"messages": [{"role": "user", "content": [{"type": "text", "text": "x", "k": '
            + deep(990)
            + "}]}]}",
            JSON,
            422,
            "nests deeper than 64 levels",
        ),
        (b'{"messages": "' + b"x" * (2 * 1024 * 1024) + b'"}', JSON, 413, "larger than"),
        (b'{"messages": [{"role": "user", "content": "\xff"}]}', JSON, 400, "invalid UTF-8"),
    ],
)
def test_hostile_bodies_get_a_4xx_naming_the_problem(
    server: LiveServer, body: Any, headers: dict[str, str], status: int, words: str
) -> None:
    content = body.encode() if isinstance(body, str) else body
    if words == "invalid UTF-8":
        content = content.replace(b"\\xff", b"\xff")
    response = httpx.post(
        server.url("/api/chat/rais"), content=content, headers=headers, timeout=10
    )
    assert response.status_code == status, response.text[:200]
    assert words in response.json()["error"]


def test_a_lone_surrogate_in_a_message_is_answered_normally(server: LiveServer) -> None:
    body = '{"messages": [{"role": "user", "content": "Weather in Par\\ud800is?"}]}'
    response = httpx.post(server.url("/api/chat/rais"), content=body, headers=JSON, timeout=10)
    assert response.status_code == 200
    assert '"type":"done"' in response.text and "surrogates" not in response.text


def test_favicon(server: LiveServer) -> None:
    response = httpx.get(server.url("/favicon.ico"), timeout=5)
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"


def test_unknown_format_and_bad_pace(server: LiveServer) -> None:
    response = httpx.post(server.url("/api/chat/xml"), json=HELLO, timeout=5)
    assert response.status_code == 404 and "rais" in response.json()["error"]
    response = httpx.post(server.url("/api/chat/rais?pace=9"), json=HELLO, timeout=5)
    assert response.status_code == 422 and "pace" in response.json()["error"]


def test_rais_reconnect_gets_204(server: LiveServer) -> None:
    response = httpx.post(
        server.url("/api/chat/rais"), json=HELLO, headers={"Last-Event-ID": "3"}, timeout=5
    )
    assert response.status_code == 204 and response.content == b""


def test_page_and_static_files_are_served_from_the_package(server: LiveServer) -> None:
    assert {path.name for path in STATIC_DIR.iterdir()} >= {"index.html", "app.js", "style.css"}
    assert STATIC_DIR.parent == Path(create_app.__code__.co_filename).parent
    page = httpx.get(server.url("/"), timeout=5)
    assert page.status_code == 200 and "/static/app.js" in page.text
    for name in ("app.js", "style.css"):
        asset = httpx.get(server.url(f"/static/{name}"), timeout=5)
        assert asset.status_code == 200 and asset.content == (STATIC_DIR / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "body"),
    [
        (  # what useChat's DefaultChatTransport (ai 5/6/7) posts
            "ui-message-stream",
            {
                "id": "chat-1",
                "messages": [
                    {"id": "m1", "role": "user", "parts": [{"type": "text", "text": "Hi there"}]}
                ],
                "trigger": "submit-message",
            },
        ),
        (  # what assistant-ui's useAssistantTransportRuntime posts
            "assistant-transport",
            {
                "commands": [
                    {
                        "type": "add-message",
                        "message": {
                            "id": "m1",
                            "role": "user",
                            "parts": [{"type": "text", "text": "Hi there"}],
                        },
                    }
                ],
                "state": {},
                "tools": {},
                "threadId": "__LOCALID_1",
                "runConfig": {},
            },
        ),
    ],
)
def test_real_frontends_request_shapes_are_served(
    server: LiveServer, name: str, body: dict[str, Any]
) -> None:
    response = httpx.post(server.url(f"/api/chat/{name}"), json=body, timeout=10)
    assert response.status_code == 200, response.text[:300]
    run = httpx.get(server.url("/api/runs/last"), timeout=5).json()
    assert run["format"] == name and run["status"] == "completed" and run["text_deltas"] > 0


def test_the_ui_message_stream_serves_the_sdk_version_asked_for(server: LiveServer) -> None:
    booking = {"messages": [{"role": "user", "content": "Book a table in Oslo for 2 people"}]}
    url = server.url("/api/chat/ui-message-stream")
    frames = {
        version: httpx.post(f"{url}?sdk_version={version}", json=booking, timeout=10).text
        for version in ("5", "7")
    }
    # book_table needs approval: ai 7 gets the request, ai 5 (no approvals) an unanswered call
    assert '"type":"tool-approval-request"' in frames["7"]
    assert "tool-approval-request" not in frames["5"]
    assert '"toolName":"book_table"' in frames["5"]
    bad = httpx.post(f"{url}?sdk_version=8", json=booking, timeout=10)
    assert bad.status_code == 422 and "sdk_version" in bad.json()["error"]


def test_assistant_transport_keeps_the_thread_and_runs_an_approved_call(
    server: LiveServer,
) -> None:
    url = server.url("/api/chat/assistant-transport")
    ask = {
        "type": "add-message",
        "message": {
            "role": "user",
            "parts": [{"type": "text", "text": "Book a table in Oslo for 3 people"}],
        },
        "parentId": None,
        "sourceId": None,
    }
    first = httpx.post(url, json={"commands": [ask], "state": {}, "threadId": "t1"}, timeout=10)
    [call_id] = {
        e["part"]["toolCallId"]
        for e in _events(first.text)
        if e.get("type") == "part-start" and e["part"].get("toolName") == "book_table"
    }
    approve = {
        "type": "add-tool-result",
        "toolCallId": call_id,
        "toolName": "book_table",
        "result": {"approved": True},
        "isError": False,
    }
    second = httpx.post(
        url, json={"commands": [approve], "state": {}, "threadId": "t1"}, timeout=10
    )
    [booked] = [e["result"] for e in _events(second.text) if e.get("type") == "result"]
    # the call's arguments came from the stored thread (the command does not carry them)
    assert (booked["city"], booked["people"], booked["booked"]) == ("Oslo", 3, True)
    roles = [m["role"] for m in server.app.state.threads.load("t1")]
    assert roles == ["user", "assistant", "tool", "assistant"]


def _events(body: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in body.split("\n") if line.startswith("data: {")]
