"""``check`` judges UI message streams (and fails broken ones); request bodies convert to the
provider message list."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce.cli import main
from assistant_stream_ce.serialization.ui_message_stream_requests import (
    DynamicToolUIPart,
    ToolUIPart,
    UIChatRequest,
    UnknownUIPart,
)

START = b'data: {"type":"start","messageId":"m"}\n\n'
TEXT = (
    b'data: {"type":"text-start","id":"a"}\n\n'
    b'data: {"type":"text-delta","id":"a","delta":"Hi"}\n\n'
    b'data: {"type":"text-end","id":"a"}\n\n'
)
FINISH = b'data: {"type":"finish","finishReason":"stop"}\n\ndata: [DONE]\n\n'
MARKER = {"x-vercel-ai-ui-message-stream": "v1"}
BROKEN: dict[str, tuple[bytes, dict[str, str], str]] = {
    # name: (body, headers, the item that must fail)
    "unclosed": (
        START + b'data: {"type":"text-start","id":"a"}\n\n' + FINISH,
        MARKER,
        "parts-closed",
    ),
    "orphan-delta": (
        START + b'data: {"type":"text-delta","id":"x","delta":"Hi"}\n\n' + FINISH,
        MARKER,
        "part-order",
    ),
    "unknown-type": (
        START + b'data: {"type":"text","text":"Hi"}\n\n' + FINISH,
        MARKER,
        "frame-shape",
    ),
    "no-marker": (START + TEXT + FINISH, {}, "ui-message-stream-header"),
    "two-finishes": (
        START + TEXT + b'data: {"type":"finish"}\n\n' + FINISH,
        MARKER,
        "finish",
    ),
    "no-done": (START + TEXT + b'data: {"type":"finish"}\n\n', MARKER, "termination"),
}


def broken_app() -> Starlette:
    async def endpoint(request: Request) -> Response:
        body, headers, _ = BROKEN[request.path_params["name"]]
        return Response(body, media_type="text/event-stream", headers=headers)

    return Starlette(routes=[Route("/{name}", endpoint, methods=["POST"])])


@pytest.mark.parametrize("name", list(BROKEN))
def test_check_fails_a_broken_ui_message_stream(
    live_server: Callable[[Any], LiveServer], name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server = live_server(broken_app())
    url = server.url(f"/{name}")
    assert main(["check", url, "--format", "ui-message-stream", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    failed = {r["id"] for r in report["results"] if r["status"] == "fail"}
    assert BROKEN[name][2] in failed, report["results"]


# -- requests --------------------------------------------------------------------------------

HISTORY: dict[str, Any] = {
    "id": "chat-1",
    "trigger": "submit-message",
    "messageId": None,
    "threadId": "t-9",
    "messages": [
        {"id": "s", "role": "system", "parts": [{"type": "text", "text": "Be brief."}]},
        {
            "id": "u1",
            "role": "user",
            "parts": [
                {"type": "file", "mediaType": "image/png", "url": "data:image/png;base64,AA=="},
                {"type": "text", "text": "What is this?"},
                {"type": "file", "mediaType": "application/pdf", "url": "https://x/y.pdf"},
            ],
        },
        {
            "id": "a1",
            "role": "assistant",
            "metadata": {"usage": {"inputTokens": 999999}},
            "parts": [
                {"type": "step-start"},
                {"type": "reasoning", "text": "hmm", "state": "done"},
                {"type": "text", "text": "Looking.", "state": "done"},
                {
                    "type": "tool-search",
                    "toolCallId": "c1",
                    "state": "output-available",
                    "input": {"q": "png"},
                    "output": {"hits": 1},
                },
                {
                    "type": "dynamic-tool",
                    "toolName": "lookup",
                    "toolCallId": "c2",
                    "state": "output-error",
                    "input": {"id": 7},
                    "errorText": "not found",
                },
                {
                    "type": "tool-delete",
                    "toolCallId": "c3",
                    "state": "approval-responded",
                    "input": {"all": True},
                    "approval": {"id": "ap1", "approved": False, "reason": "too risky"},
                },
                {
                    "type": "tool-pending",
                    "toolCallId": "c4",
                    "state": "input-available",
                    "input": {},
                },
                {"type": "source-url", "sourceId": "s1", "url": "https://x"},
                {"type": "data-state", "id": "state", "data": {"admin": True}},
                {"type": "step-start"},
                {"type": "text", "text": "It is a logo.", "state": "done"},
                {"type": "hologram", "payload": 1},
            ],
        },
        {"id": "u2", "role": "user", "parts": [{"type": "text", "text": "Thanks"}]},
    ],
}


def test_a_history_converts_to_provider_messages(caplog: pytest.LogCaptureFixture) -> None:
    request = UIChatRequest.model_validate(HISTORY)
    assert request.extra == {"threadId": "t-9"}
    parts = request.messages[2].parts
    assert isinstance(parts[3], ToolUIPart) and parts[3].tool_name == "search"
    assert isinstance(parts[4], DynamicToolUIPart) and parts[4].tool_name == "lookup"
    assert isinstance(parts[-1], UnknownUIPart)
    with caplog.at_level(logging.WARNING):
        messages = request.to_provider_messages(system="You help.", client_system=True)
    assert messages == [
        {"role": "system", "content": "You help."},
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                {"type": "text", "text": "What is this?"},
            ],
        },
        {
            "role": "assistant",
            "content": "Looking.",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "search", "arguments": '{"q":"png"}'},
                },
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"id":7}'},
                },
                {
                    "id": "c3",
                    "type": "function",
                    "function": {"name": "delete", "arguments": '{"all":true}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"hits":1}'},
        {"role": "tool", "tool_call_id": "c2", "content": "not found"},
        {
            "role": "tool",
            "tool_call_id": "c3",
            "content": "The user denied this tool call. Reason: too risky",
        },
        {"role": "assistant", "content": "It is a logo."},
        {"role": "user", "content": "Thanks"},
    ]
    # skipped parts are reported; the client's data-state and metadata are not taken in
    assert "'application/pdf'" not in caplog.text and "'file' part skipped" in caplog.text
    assert "'hologram' part skipped" in caplog.text
    assert "admin" not in json.dumps(messages) and "999999" not in json.dumps(messages)
    # by default the server owns the system prompt: the client's is left out
    assert request.to_provider_messages(system="You help.")[:2] == [
        {"role": "system", "content": "You help."},
        messages[2],
    ]
    assert "system message from the client left out" in caplog.text


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"messages": "nope"}, ("messages",)),
        ({"messages": [{"id": "m", "role": "robot", "parts": []}]}, ("messages", 0, "role")),
        (
            {
                "messages": [
                    {"id": "m", "role": "user", "parts": [{"type": "tool-x", "state": "?"}]}
                ]
            },
            ("messages", 0, "parts", 0, "tool", "toolCallId"),
        ),
        ({"messages": [], "trigger": "resume"}, ("trigger",)),
    ],
)
def test_malformed_bodies_name_the_field(body: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        UIChatRequest.model_validate(body)
    assert loc in [tuple(error["loc"]) for error in info.value.errors()]
