"""The real npm `assistant-stream` client decodes what our responses serve over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from node_client import decode_with_assistant_stream
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.serialization.assistant_transport import AssistantTransportResponse
from assistant_stream_ce.serialization.data_stream import DataStreamResponse

pytestmark = [pytest.mark.interop, pytest.mark.http]

TRICKY = 'emoji 😀, CJK 漢字, line sep \u2028 para \u2029 nel \x85, crlf \r\n, quote " end'


async def rich_run(controller: RunController) -> None:
    """Text, reasoning, two interleaved tool calls with streamed args and results, state, a
    source, a file, data, annotations and two steps."""
    controller.add_step_start("msg_1")
    controller.append_reasoning("Thinking about ")
    await asyncio.sleep(0)
    controller.append_reasoning("weather and time.")
    controller.append_text("Checking two things. ")
    controller.state = {"city": "Paris", "log": ""}
    weather = await controller.add_tool_call("get_weather", "call_weather")
    clock = await controller.add_tool_call("get_time", "call_time")
    weather.append_args_text('{"city":')
    await asyncio.sleep(0)
    clock.append_args_text('{"tz":"Europe/Paris"}')
    await asyncio.sleep(0)
    weather.append_args_text('"Paris"}')
    clock.set_response({"time": "12:00"})
    weather.set_response({"tempC": 18}, artifact={"raw": "18C"})
    controller.state["log"] += "weather;"
    await asyncio.sleep(0)
    controller.state["log"] += "time;"
    controller.add_step_finish("tool-calls", 10, 20)
    controller.add_step_start("msg_2")
    controller.append_text("It is 18 C at 12:00 in Paris. ")
    await asyncio.sleep(0)
    controller.append_text(TRICKY)
    controller.add_source("src_1", "https://weather.example/paris", "Paris forecast")
    controller.add_file("aGVsbG8=", "text/plain")
    controller.add_data({"kind": "note"})
    controller.add_annotations([{"a": 1}])
    controller.add_step_finish("stop", 30, 10)


async def failing_run(controller: RunController) -> None:
    controller.append_text("Let me check.")
    tool = await controller.add_tool_call("get_weather", "call_1")
    tool.append_args_text('{"city":')
    await asyncio.sleep(0)
    raise RuntimeError("upstream model timed out")


async def client_tool_run(controller: RunController) -> None:
    controller.append_text("Please confirm.")
    tool = await controller.add_tool_call("confirm", "call_confirm")
    tool.append_args_text('{"ok":')
    tool.append_args_text("true}")
    tool.close()


RUNS = {"rich": rich_run, "failing": failing_run, "client-tool": client_tool_run}
RESPONSES = {"data-stream": DataStreamResponse, "assistant-transport": AssistantTransportResponse}


@pytest.fixture(scope="module")
def server() -> Any:
    async def endpoint(request: Request) -> Response:
        run = RUNS[request.query_params["run"]]
        response_class = RESPONSES[request.path_params["protocol"]]
        return response_class(create_run(run, state={}), heartbeat=0.001)

    live = LiveServer(Starlette(routes=[Route("/{protocol}", endpoint, methods=["POST"])])).start()
    yield live
    live.stop()


def fetch_and_decode(server: LiveServer, protocol: str, run: str) -> dict[str, Any]:
    body = httpx.post(server.url(f"/{protocol}?run={run}"), timeout=10).content
    return decode_with_assistant_stream(protocol, body)


def summarize(part: dict[str, Any]) -> dict[str, Any]:
    keep = {
        "text": ["type", "text"],
        "reasoning": ["type", "text"],
        "tool-call": ["type", "toolCallId", "toolName", "argsText", "args", "result", "artifact"],
        "source": ["type", "sourceType", "id", "url", "title"],
        "file": ["type", "data", "mimeType"],
    }[part["type"]]
    return {key: part[key] for key in keep if key in part}


@pytest.mark.parametrize("protocol", list(RESPONSES))
def test_rich_run_decodes_to_the_message_the_run_produced(
    server: LiveServer, protocol: str
) -> None:
    decoded = fetch_and_decode(server, protocol, "rich")
    assert decoded["ok"], decoded
    assert decoded["warnings"] == []
    message = decoded["message"]
    assert [summarize(part) for part in message["parts"]] == [
        {"type": "reasoning", "text": "Thinking about weather and time."},
        {"type": "text", "text": "Checking two things. "},
        {
            "type": "tool-call",
            "toolCallId": "call_weather",
            "toolName": "get_weather",
            "argsText": '{"city":"Paris"}',
            "args": {"city": "Paris"},
            "result": {"tempC": 18},
            "artifact": {"raw": "18C"},
        },
        {
            "type": "tool-call",
            "toolCallId": "call_time",
            "toolName": "get_time",
            "argsText": '{"tz":"Europe/Paris"}',
            "args": {"tz": "Europe/Paris"},
            "result": {"time": "12:00"},
        },
        {"type": "text", "text": "It is 18 C at 12:00 in Paris. " + TRICKY},
        {
            "type": "source",
            "sourceType": "url",
            "id": "src_1",
            "url": "https://weather.example/paris",
            "title": "Paris forecast",
        },
        {"type": "file", "data": "aGVsbG8=", "mimeType": "text/plain"},
    ]
    metadata = message["metadata"]
    assert metadata["unstable_state"] == {"city": "Paris", "log": "weather;time;"}
    assert metadata["unstable_data"] == [{"kind": "note"}]
    assert metadata["unstable_annotations"] == [{"a": 1}]
    steps = [(s["messageId"], s["finishReason"], s["usage"]) for s in metadata["steps"]]
    assert steps == [
        ("msg_1", "tool-calls", {"inputTokens": 10, "outputTokens": 20}),
        ("msg_2", "stop", {"inputTokens": 30, "outputTokens": 10}),
    ]
    assert message["status"] == {"type": "complete", "reason": "stop"}


@pytest.mark.parametrize("protocol", list(RESPONSES))
def test_failing_run_decodes_to_an_error_status_with_the_partial_call(
    server: LiveServer, protocol: str
) -> None:
    decoded = fetch_and_decode(server, protocol, "failing")
    assert decoded["ok"], decoded
    message = decoded["message"]
    assert message["status"]["type"] == "incomplete"
    assert message["status"]["reason"] == "error"
    assert "upstream model timed out" in json.dumps(message["status"])
    text, call = message["parts"]
    assert text["text"] == "Let me check."
    assert call["toolCallId"] == "call_1" and call["argsText"] == '{"city":'


@pytest.mark.parametrize("protocol", list(RESPONSES))
def test_unanswered_call_leaves_the_message_requiring_action(
    server: LiveServer, protocol: str
) -> None:
    decoded = fetch_and_decode(server, protocol, "client-tool")
    assert decoded["ok"], decoded
    message = decoded["message"]
    assert message["status"] == {"type": "requires-action", "reason": "tool-calls"}
    assert message["parts"][1]["args"] == {"ok": True}
    assert "result" not in message["parts"][1]


def test_keepalives_never_disturb_the_decoders(live_server: Callable[[Any], LiveServer]) -> None:
    async def slow_run(controller: RunController) -> None:
        controller.append_text("a")
        await asyncio.sleep(0.3)
        controller.append_text("b")

    async def endpoint(request: Request) -> Response:
        response_class = RESPONSES[request.path_params["protocol"]]
        return response_class(create_run(slow_run), heartbeat=0.05)

    server = live_server(Starlette(routes=[Route("/{protocol}", endpoint, methods=["POST"])]))
    for protocol in RESPONSES:
        body = httpx.post(server.url(f"/{protocol}"), timeout=10).content
        assert body.count(b"heartbeat") >= 2 or body.count(b"\n\n") >= 2
        decoded = decode_with_assistant_stream(protocol, body)
        assert decoded["ok"] and decoded["warnings"] == [], decoded
        assert decoded["message"]["parts"][0]["text"] == "ab"
