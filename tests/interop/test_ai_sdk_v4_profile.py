"""``DataStreamResponse(profile="ai-sdk-v4")`` serves the Vercel AI SDK v4 ``useChat``.

The real npm ``ai`` 4.x client (pinned) reads a run that uses everything assistant-ui-only
(state, parent ids, a reasoning summary) without failing, sees usage as numbers, and calls
``onToolCall`` for the finished calls (the one left to the client included); our own decoder
reads the same bytes.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from node_client import decode_with_ai_sdk
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from _util import encode
from assistant_stream_ce import RunController, accumulate, create_run
from assistant_stream_ce.serialization.data_stream import (
    DataStreamDecoder,
    DataStreamEncoder,
    DataStreamResponse,
)

pytestmark = pytest.mark.interop


async def app_run(controller: RunController) -> None:
    """Two steps: reasoning with a summary, state, a parented text, an answered call, a
    source, then text and a call left to the client."""
    controller.add_step_start("msg_1")
    controller.add_reasoning_part("Plan")
    controller.append_reasoning("Look up, then ask.")
    controller.state = {"phase": "lookup"}
    controller.with_parent_id("group_1").append_text("Looking up. ")
    lookup = await controller.add_tool_call("lookup", "call_lookup")
    lookup.append_args_text('{"q":')
    await asyncio.sleep(0)
    lookup.append_args_text('"weather"}')
    lookup.set_response({"hits": 1})
    controller.add_source("src_1", "https://weather.example/paris", "Forecast")
    controller.state["phase"] = "confirm"
    controller.add_step_finish("tool-calls", input_tokens=10, output_tokens=5)
    controller.add_step_start("msg_2")
    controller.append_text("Found it. Confirm?")
    confirm = await controller.add_tool_call("confirm", "call_confirm")
    confirm.append_args_text('{"ok":')
    confirm.append_args_text("true}")
    controller.add_step_finish("tool-calls", input_tokens=20, output_tokens=7)


def v4_body() -> bytes:
    return asyncio.run(encode(DataStreamEncoder("ai-sdk-v4"), create_run(app_run, state={})))


def test_v4_profile_writes_only_codes_v4_knows() -> None:
    body = v4_body()
    codes = {line.split(b":", 1)[0] for line in body.splitlines() if line}
    assert codes <= set(b"0 2 3 8 9 a b c d e f g h i j k".split())
    assert b'9:{"toolCallId":"call_confirm","toolName":"confirm","args":{"ok":true}}' in body
    assert b'"promptTokens":30,"completionTokens":12' in body  # the d: totals


def test_use_chat_reads_the_v4_profile_and_runs_the_client_tool() -> None:
    result = decode_with_ai_sdk(v4_body())
    assert result["ok"], result
    chat = result["chat"]
    assert chat["ok"], chat
    assert chat["finishReason"] == "tool-calls"
    assert chat["usage"] == {"promptTokens": 30, "completionTokens": 12, "totalTokens": 42}
    # Like v4's own server (streamText), every finished call is a 9 frame, so onToolCall sees
    # both; the answered one then gets its result from the a frame.
    assert chat["toolCalls"] == [
        {"toolCallId": "call_lookup", "toolName": "lookup", "args": {"q": "weather"}},
        {"toolCallId": "call_confirm", "toolName": "confirm", "args": {"ok": True}},
    ]
    invocations = {i["toolCallId"]: i for i in chat["message"]["toolInvocations"]}
    assert invocations["call_lookup"]["state"] == "result"
    assert invocations["call_lookup"]["args"] == {"q": "weather"}
    assert invocations["call_lookup"]["result"] == {"hits": 1}
    assert invocations["call_confirm"]["state"] == "call"
    text = "".join(p["text"] for p in chat["message"]["parts"] if p["type"] == "text")
    assert text == "Looking up. Found it. Confirm?"
    assert chat["message"]["reasoning"] == "Look up, then ask."
    sources = [p["source"] for p in chat["message"]["parts"] if p["type"] == "source"]
    assert [s["url"] for s in sources] == ["https://weather.example/paris"]


def test_our_decoder_reads_the_v4_profile_like_the_run() -> None:
    body = v4_body()

    async def decode() -> object:
        return accumulate([chunk async for chunk in DataStreamDecoder().decode_stream([body])])

    message = asyncio.run(decode())
    as_dict = message.to_dict()  # type: ignore[attr-defined]
    calls = [p for p in as_dict["parts"] if p["type"] == "tool-call"]
    assert [(c["tool_call_id"], c["args"], c.get("result")) for c in calls] == [
        ("call_lookup", {"q": "weather"}, {"hits": 1}),
        ("call_confirm", {"ok": True}, None),
    ]
    text = "".join(p["text"] for p in as_dict["parts"] if p["type"] == "text")
    assert text == "Looking up. Found it. Confirm?"


@pytest.mark.http
def test_the_response_serves_the_profile_over_http(live_server: object) -> None:
    async def endpoint(request: Request) -> DataStreamResponse:
        return DataStreamResponse(create_run(app_run, state={}), profile="ai-sdk-v4")

    server = live_server(Starlette(routes=[Route("/", endpoint, methods=["POST"])]))  # type: ignore[operator]
    response = httpx.post(server.url("/"), json={})
    assert response.headers["x-vercel-ai-data-stream"] == "v1"
    assert b"aui-" not in response.content
    assert json.loads(response.content.splitlines()[-1][2:])["finishReason"] == "tool-calls"


def test_an_unknown_profile_is_rejected() -> None:
    with pytest.raises(ValueError, match="profile"):
        DataStreamEncoder("v5")  # type: ignore[arg-type]
