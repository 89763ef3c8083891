"""The approval flow through the real npm ``ai`` 6 and 7 chats (``AbstractChat`` +
``DefaultChatTransport``) against a FastAPI app under uvicorn: the run stops with a
``tool-approval-request``; the chat's ``addToolApprovalResponse`` + ``sendMessage()`` posts the
continuation, which `chat_request` parses; an approved call runs and the offline model answers
with its result, a denied one never runs and its part ends ``output-denied``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from test_ai_sdk_reads_ui_message_stream import NODE_UI, ensure_node_ui

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import run_provider, tool
from assistant_stream_ce.requests import ChatRequest, chat_request
from assistant_stream_ce.serialization.ui_message_stream import UIMessageStreamResponse

pytestmark = [pytest.mark.interop, pytest.mark.http]

RAN: list[str] = []


@tool(needs_approval=True)
async def get_weather(city: str) -> dict[str, Any]:
    """The weather in a city (a person approves each call)."""
    RAN.append(city)
    return {"city": city, "tempC": 23}


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/chat/{version}")
    async def chat(
        version: int,
        request: Annotated[ChatRequest, Depends(chat_request("ui-message-stream"))],
    ) -> UIMessageStreamResponse:
        async def run(controller: RunController) -> None:
            await run_provider(
                controller,
                request.messages,
                provider="offline",
                tools=[get_weather],
                answers=request.answers,
                pace=0,
            )

        return UIMessageStreamResponse(
            create_run(run),
            sdk_version=version,
            message_id=request.message_id,
            continued_tool_calls=[answer.tool_call_id for answer in request.answers],
        )

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(make_app()).start()
    yield live
    live.stop()


def drive(client: str, url: str, decision: str, *options: str) -> dict[str, Any]:
    """Run ``approval_client.mjs`` (``options``: its ``--text=`` / ``--tool-output=``)."""
    node = ensure_node_ui()
    proc = subprocess.run(
        [node, "approval_client.mjs", client, url, decision, *options],
        cwd=NODE_UI,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"approval_client.mjs exited {proc.returncode}: {proc.stderr.decode()}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.mark.parametrize("client", ["ai6", "ai7"])
def test_approve(server: LiveServer, client: str) -> None:
    RAN.clear()
    result = drive(client, server.url(f"/chat/{client[-1]}"), "approve")
    assert result["errors"] == [] and result["error"] is None
    assert RAN == ["Paris"]
    continuation = result["bodies"][1]
    assert continuation["trigger"] == "submit-message"
    assert continuation["messages"][-1]["role"] == "assistant"
    [_user, assistant] = result["messages"]
    assert continuation["messageId"] == assistant["id"]
    tools = [p for p in assistant["parts"] if p["type"] == "tool-get_weather"]
    assert len(tools) == 1  # the continued message's part, updated in place
    assert tools[0]["state"] == "output-available"
    assert tools[0]["output"] == {"city": "Paris", "tempC": 23}
    text = "".join(p["text"] for p in assistant["parts"] if p["type"] == "text")
    assert text.endswith('The tool returned: {"city": "Paris", "tempC": 23}')


@pytest.mark.parametrize("client", ["ai6", "ai7"])
def test_deny(server: LiveServer, client: str) -> None:
    RAN.clear()
    result = drive(client, server.url(f"/chat/{client[-1]}"), "deny")
    assert result["errors"] == [] and result["error"] is None
    assert RAN == []
    assistant = result["messages"][-1]
    [part] = [p for p in assistant["parts"] if p["type"] == "tool-get_weather"]
    assert part["state"] == "output-denied"
    assert part["approval"]["approved"] is False
    text = "".join(p["text"] for p in assistant["parts"] if p["type"] == "text")
    assert "The user denied this tool call. Reason: not today" in text
