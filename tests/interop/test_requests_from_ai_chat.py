"""The bodies the real npm ``ai`` 5, 6 and 7 chats POST (``AbstractChat`` +
``DefaultChatTransport``), captured live, parse into the expected conversation.

The server answers turn one with text, a tool call with its output and more text; the client's
second request carries that assistant message back. `parse_request` of that body gives the
same conversation in every version.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from test_ai_sdk_reads_ui_message_stream import CLIENTS, VERSION_OF, read_with_ai

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.requests import parse_request
from assistant_stream_ce.serialization.ui_message_stream import UIMessageStreamResponse

pytestmark = [pytest.mark.interop, pytest.mark.http]

RAW_BODIES: list[bytes] = []


async def turn(controller: RunController) -> None:
    controller.add_step_start("msg_1")
    controller.append_text("Checking. ")
    tool = await controller.add_tool_call("get_weather", "call_weather")
    tool.append_args_text('{"city":"Paris"}')
    tool.set_response({"tempC": 18})
    controller.add_step_finish("tool-calls", 10, 5)
    controller.add_step_start("msg_2")
    controller.append_text("It is 18 °C.")
    controller.add_step_finish("stop", 20, 5)


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/chat/{version}")
    async def chat(version: int, request: Request) -> UIMessageStreamResponse:
        RAW_BODIES.append(await request.body())
        return UIMessageStreamResponse(create_run(turn), sdk_version=version)

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(make_app()).start()
    yield live
    live.stop()


@pytest.mark.parametrize("client", CLIENTS)
def test_second_turn_body_parses_into_the_conversation(server: LiveServer, client: str) -> None:
    RAW_BODIES.clear()
    result = read_with_ai(client, server.url(f"/chat/{VERSION_OF[client]}"), turns=2, text="Hi")
    chat: dict[str, Any] = result["chat"]
    assert chat["errors"] == [] and len(chat["bodies"]) == 2
    # the raw bytes the server received for the chat's second turn (the read path posts first)
    request = parse_request(RAW_BODIES[-1], protocol="ui-message-stream")
    assert request.thread_id == "chat-1"
    assert request.extra["trigger"] == "submit-message"
    assert request.messages == [
        {"role": "user", "content": "Hi"},
        {
            "role": "assistant",
            "content": "Checking. ",
            "tool_calls": [
                {
                    "id": "call_weather",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_weather", "content": '{"tempC":18}'},
        {"role": "assistant", "content": "It is 18 °C."},
        {"role": "user", "content": "turn 2"},
    ]
    assert request.answers == []  # the last message is the user's: nothing is being continued
