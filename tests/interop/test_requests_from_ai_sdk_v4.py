"""AI SDK 4 ``useChat`` history: the assistant message v4's own client code builds from our
``ai-sdk-v4`` data stream (``callChatApi`` in npm ``@ai-sdk/ui-utils``), sent back the way
v4's ``useChat`` sends it, parses into the conversation — read from ``parts``: the glued
``content`` ("…check.It is…") never reaches the model."""

from __future__ import annotations

from typing import Any

import pytest
from node_client import decode_with_ai_sdk

from _util import encode
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.requests import parse_request
from assistant_stream_ce.serialization.data_stream import DataStreamEncoder

pytestmark = pytest.mark.interop


async def two_steps(controller: RunController) -> None:
    controller.add_step_start("msg_1")
    controller.append_text("Let me check.")
    tool = await controller.add_tool_call("get_weather", "call_1")
    tool.append_args_text('{"city":"Paris"}')
    tool.set_response({"tempC": 18})
    controller.add_step_finish("tool-calls", 10, 5)
    controller.add_step_start("msg_2")
    controller.append_text("It is 18 °C in Paris.")
    controller.add_step_finish("stop", 20, 6)


def v4_payload(message: dict[str, Any]) -> dict[str, Any]:
    """What v4's useChat sends for one message (``sendExtraMessageFields`` off): role,
    content and, when present, attachments, data, annotations, toolInvocations and parts."""
    keys = ("experimental_attachments", "data", "annotations", "toolInvocations", "parts")
    out = {"role": message["role"], "content": message["content"]}
    out.update({key: message[key] for key in keys if message.get(key) is not None})
    return out


async def test_v4_use_chat_history_parses_from_parts() -> None:
    body = await encode(DataStreamEncoder(profile="ai-sdk-v4"), create_run(two_steps))
    chat = decode_with_ai_sdk(body)["chat"]
    assert chat["ok"], chat
    assistant = chat["message"]
    assert assistant["content"] == "Let me check.It is 18 °C in Paris."  # glued by v4
    user = {"role": "user", "content": "Weather?", "parts": [{"type": "text", "text": "Weather?"}]}
    follow_up = {"role": "user", "content": "Thanks", "parts": [{"type": "text", "text": "Thanks"}]}
    request_body = {
        "id": "chat-v4",
        "messages": [v4_payload(user), v4_payload(assistant), v4_payload(follow_up)],
    }
    request = parse_request(request_body, protocol="data-stream")
    assert request.thread_id == "chat-v4"
    assert request.messages == [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"tempC":18}'},
        {"role": "assistant", "content": "It is 18 °C in Paris."},
        {"role": "user", "content": "Thanks"},
    ]
