"""The real npm ``ai`` clients (strict 5.0.100, strict 6.0.100, current 7.x) read our UI message
streams from a live uvicorn server: through ``readUIMessageStream`` and through the ``useChat``
path (``AbstractChat`` + ``DefaultChatTransport``), with zero schema or stream errors.

``node_ui/ui_client.mjs`` runs both paths against one URL and prints what they saw. The server
is a FastAPI app taking the transport's body as `UIChatRequest`. The other direction:
``node_ui/official_server.mjs`` is the AI SDK 7 server (`streamText` + `toUIMessageStreamResponse`);
our decoder reads it strictly and ``check`` passes it.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import shutil
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.accumulator import accumulate
from assistant_stream_ce.cli import main
from assistant_stream_ce.providers import run_provider
from assistant_stream_ce.serialization import detect_protocol
from assistant_stream_ce.serialization.ui_message_stream import (
    UIMessageStreamDecoder,
    UIMessageStreamResponse,
)
from assistant_stream_ce.serialization.ui_message_stream_requests import UIChatRequest

pytestmark = [pytest.mark.interop, pytest.mark.http]

NODE_UI = pathlib.Path(__file__).resolve().parent / "node_ui"
CLIENTS = ("ai5", "ai6", "ai7")
VERSION_OF = {"ai5": 5, "ai6": 6, "ai7": 7}
_install_lock = threading.Lock()


def ensure_node_ui() -> str:
    """``node`` (after ``npm ci`` in node_ui/ if its packages are missing)."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("the interop tests need Node.js (>= 20) and npm on PATH")
    with _install_lock:
        if not (NODE_UI / "node_modules" / "ai7" / "package.json").is_file():
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_UI, check=True, timeout=300
            )
    return node


def read_with_ai(client: str, url: str, *, turns: int = 1, text: str = "hello") -> dict[str, Any]:
    node = ensure_node_ui()
    proc = subprocess.run(
        [node, "ui_client.mjs", client, url, f"--turns={turns}", f"--text={text}"],
        cwd=NODE_UI,
        capture_output=True,
        timeout=60,
        check=False,
    )
    stdout = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"ui_client.mjs exited {proc.returncode}: {proc.stderr.decode()}")
    result: dict[str, Any] = json.loads(stdout)
    return result


# -- the runs --------------------------------------------------------------------------------

INITIAL_STATE = {"log": ""}
FINAL_STATE = {"city": "Paris", "log": "weather;time;", "nested": {"count": 2}}


async def rich_run(controller: RunController) -> None:
    """Text, reasoning, two tool calls with streamed arguments and results, an error result,
    a source, a file, data, state (root set, nested set, append), usage over two steps."""
    controller.add_step_start("msg_rich")
    controller.append_reasoning("Thinking about ")
    await asyncio.sleep(0)
    controller.append_reasoning("the weather.")
    controller.append_text("Checking two things. ")
    controller.state = {"city": "Paris", "log": "", "nested": {"count": 0}}
    weather = await controller.add_tool_call("get_weather", "call_weather")
    clock = await controller.add_tool_call("get_time", "call_time")
    weather.append_args_text('{"city":')
    await asyncio.sleep(0)
    clock.append_args_text('{"tz":"Europe/Paris"}')
    await asyncio.sleep(0)
    weather.append_args_text('"Paris"}')
    clock.set_response({"time": "12:00"})
    weather.set_response({"tempC": 18})
    lookup = await controller.add_tool_call("lookup", "call_lookup")
    lookup.append_args_text('{"q":"x"}')
    lookup.set_response("not found", is_error=True)
    controller.state["nested"]["count"] = 2
    controller.state["log"] += "weather;"
    await asyncio.sleep(0)
    controller.state["log"] += "time;"
    controller.add_step_finish("tool-calls", 10, 20)
    controller.add_step_start("msg_rich_2")
    controller.append_text("It is 18 C ")
    await asyncio.sleep(0.01)
    controller.append_text("in Paris.")
    controller.add_source("src_1", "https://weather.example/paris", "Paris forecast")
    controller.add_file("aGVsbG8=", "text/plain")
    controller.add_data({"kind": "note"})
    controller.add_step_finish("stop", 30, 10)


async def add_error_run(controller: RunController) -> None:
    controller.append_text("Before. ")
    await asyncio.sleep(0)
    controller.add_error("a recoverable problem")
    controller.append_text("After.")


async def raising_run(controller: RunController) -> None:
    controller.append_text("Let me check.")
    tool = await controller.add_tool_call("get_weather", "call_1")
    tool.append_args_text('{"city":')
    await asyncio.sleep(0)
    raise RuntimeError("upstream model timed out")


async def empty_run(controller: RunController) -> None:
    return None


async def cancelled_run(controller: RunController) -> None:
    controller.append_text("Working on it")
    await asyncio.sleep(0)
    raise asyncio.CancelledError  # e.g. a stop button cancelled the run's task


RUNS = {
    "rich": rich_run,
    "add-error": add_error_run,
    "raises": raising_run,
    "empty": empty_run,
    "cancelled": cancelled_run,
}

app = FastAPI()
received: list[UIChatRequest] = []


@app.post("/chat/{scenario}/{version}")
async def chat(scenario: str, version: int, request: UIChatRequest) -> UIMessageStreamResponse:
    received.append(request)
    sdk_version: Any = version
    if scenario == "provider":
        messages = request.to_provider_messages()

        async def provider_run(controller: RunController) -> None:
            await run_provider(controller, messages, provider="offline", pace=0)

        return UIMessageStreamResponse(create_run(provider_run), sdk_version=sdk_version)
    state = INITIAL_STATE if scenario == "rich" else None
    return UIMessageStreamResponse(create_run(RUNS[scenario], state=state), sdk_version=sdk_version)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(app).start()
    try:
        yield live
    finally:
        live.stop()


def parts_of(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [part for part in message["parts"] if part["type"] == kind]


def text_of(message: dict[str, Any]) -> str:
    return "".join(part["text"] for part in parts_of(message, "text"))


def chunk_types(result: dict[str, Any]) -> list[str]:
    return [chunk["type"] for chunk in result["read"]["chunks"]]


def check_rich_message(message: dict[str, Any]) -> None:
    assert text_of(message) == "Checking two things. It is 18 C in Paris."
    assert [p["text"] for p in parts_of(message, "reasoning")] == ["Thinking about the weather."]
    assert all(
        p["state"] == "done" for p in parts_of(message, "text") + parts_of(message, "reasoning")
    )
    weather, clock, lookup = (
        parts_of(message, "tool-get_weather")[0],
        parts_of(message, "tool-get_time")[0],
        parts_of(message, "tool-lookup")[0],
    )
    assert (weather["state"], weather["input"], weather["output"]) == (
        "output-available",
        {"city": "Paris"},
        {"tempC": 18},
    )
    assert (clock["state"], clock["input"], clock["output"]) == (
        "output-available",
        {"tz": "Europe/Paris"},
        {"time": "12:00"},
    )
    assert (lookup["state"], lookup["input"], lookup["errorText"]) == (
        "output-error",
        {"q": "x"},
        "not found",
    )
    [source] = parts_of(message, "source-url")
    assert (source["sourceId"], source["url"], source["title"]) == (
        "src_1",
        "https://weather.example/paris",
        "Paris forecast",
    )
    [file] = parts_of(message, "file")
    assert (file["url"], file["mediaType"]) == ("data:text/plain;base64,aGVsbG8=", "text/plain")
    assert [p["data"] for p in parts_of(message, "data-data")] == [{"kind": "note"}]
    [state] = parts_of(message, "data-state")
    assert state["data"] == FINAL_STATE
    assert len(parts_of(message, "step-start")) == 2
    assert message["metadata"] == {
        "usage": {"inputTokens": 40, "outputTokens": 30, "totalTokens": 70}
    }


@pytest.mark.parametrize("client", CLIENTS)
def test_rich_run_reads_cleanly_in_every_client(server: LiveServer, client: str) -> None:
    result = read_with_ai(client, server.url(f"/chat/rich/{VERSION_OF[client]}"))
    read, chat = result["read"], result["chat"]
    assert read["errors"] == [] and chat["errors"] == [], (read["errors"], chat["errors"])
    assert chat["status"] == "ready" and chat["error"] is None
    check_rich_message(read["message"])
    assistant = chat["messages"][-1]
    assert assistant["role"] == "assistant" and assistant["id"] == "msg_rich"
    check_rich_message(assistant)
    types = chunk_types(result)
    assert types[0] == "start" and types[-1] == "finish"
    assert result["read"]["chunks"][-1]["finishReason"] == "stop"
    # the state part carried the initial state first, then the whole state per update
    states = [c["data"] for c in read["chunks"] if c["type"] == "data-state"]
    assert states[0] == INITIAL_STATE and states[-1] == FINAL_STATE


@pytest.mark.parametrize("client", ["ai6", "ai7"])
def test_the_default_version_5_stream_reads_in_newer_clients(
    server: LiveServer, client: str
) -> None:
    result = read_with_ai(client, server.url("/chat/rich/5"))
    assert result["read"]["errors"] == [] and result["chat"]["errors"] == []
    check_rich_message(result["read"]["message"])


@pytest.mark.parametrize("client", CLIENTS)
def test_add_error_reaches_on_error_with_its_text_only(server: LiveServer, client: str) -> None:
    result = read_with_ai(client, server.url(f"/chat/add-error/{VERSION_OF[client]}"))
    read, chat = result["read"], result["chat"]
    # the only error either path sees is ours, with its text: no schema or stream error
    assert [e["message"] for e in read["errors"]] == ["a recoverable problem"]
    assert text_of(read["message"]) == "Before. After."
    assert all(p["state"] == "done" for p in parts_of(read["message"], "text"))
    assert chat["status"] == "error" and chat["error"]["message"] == "a recoverable problem"
    assert [e["message"] for e in chat["errors"]] == ["a recoverable problem"]
    assert text_of(chat["messages"][-1]).startswith("Before.")
    types = chunk_types(result)
    error_at = types.index("error")
    assert types[error_at - 1] == "text-end"  # the open text part closed before the error


@pytest.mark.parametrize("client", CLIENTS)
def test_a_callback_that_raises_ends_with_its_error(server: LiveServer, client: str) -> None:
    result = read_with_ai(client, server.url(f"/chat/raises/{VERSION_OF[client]}"))
    read, chat = result["read"], result["chat"]
    assert [e["message"] for e in read["errors"]] == ["upstream model timed out"]
    assert chat["status"] == "error" and chat["error"]["message"] == "upstream model timed out"
    message = read["message"]
    assert text_of(message) == "Let me check."
    [tool] = parts_of(message, "tool-get_weather")
    # the unfinished argument text is not JSON: the call reports an input error, raw text kept
    # (ai 5 and 6 keep it as `rawInput`, ai 7 as `input`)
    raw_key = "input" if client == "ai7" else "rawInput"
    assert tool["state"] == "output-error" and tool[raw_key] == '{"city":'
    types = chunk_types(result)
    assert types[-1] == "error" and "finish" not in types


@pytest.mark.parametrize("client", CLIENTS)
def test_an_empty_run_is_a_clean_empty_message(server: LiveServer, client: str) -> None:
    result = read_with_ai(client, server.url(f"/chat/empty/{VERSION_OF[client]}"))
    read, chat = result["read"], result["chat"]
    assert read["errors"] == [] and chat["errors"] == [] and chat["status"] == "ready"
    assert read["message"]["parts"] == []
    assert chunk_types(result) == ["start", "finish"]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_cancelled_run_ends_with_abort(server: LiveServer, client: str) -> None:
    result = read_with_ai(client, server.url(f"/chat/cancelled/{VERSION_OF[client]}"))
    read, chat = result["read"], result["chat"]
    assert read["errors"] == [] and chat["errors"] == []
    assert text_of(read["message"]) == "Working on it"
    chunks = read["chunks"]
    assert [c["type"] for c in chunks[-3:]] == ["text-end", "finish-step", "abort"]
    assert ("reason" in chunks[-1]) is (client != "ai5")  # abort.reason exists from ai 6 on


def test_strict_ai5_rejects_a_field_of_a_later_version(server: LiveServer) -> None:
    """The negative control: ai 5.0.100 reports the `abort.reason` that 6 and 7 accept, so the
    clean reads above are proof, and targeting the version matters."""
    result = read_with_ai("ai5", server.url("/chat/cancelled/6"))
    assert result["read"]["errors"] and result["chat"]["errors"]
    assert "reason" in json.dumps(result["read"]["errors"])


@pytest.mark.parametrize("client", CLIENTS)
def test_offline_provider_output_and_a_second_turn_request(server: LiveServer, client: str) -> None:
    received.clear()
    result = read_with_ai(
        client,
        server.url(f"/chat/provider/{VERSION_OF[client]}"),
        turns=2,
        text="What is the weather in Paris?",
    )
    read, chat = result["read"], result["chat"]
    assert read["errors"] == [] and chat["errors"] == [] and chat["status"] == "ready"
    for message in (read["message"], chat["messages"][1]):
        [tool] = parts_of(message, "tool-get_weather")
        assert tool["state"] == "output-available" and tool["input"]["city"] == "Paris"
        assert parts_of(message, "reasoning") and text_of(message)
        assert parts_of(message, "source-url")
    # the second turn's body carries the first turn's call and result
    first_answer = chat["messages"][1]
    [tool] = parts_of(first_answer, "tool-get_weather")
    body = UIChatRequest.model_validate(chat["bodies"][1])
    assert body.id == "chat-1" and body.trigger == "submit-message"
    assert received[-1].model_dump() == body.model_dump()
    messages = body.to_provider_messages()
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "user"]
    assert messages[0]["content"] == "What is the weather in Paris?"
    call = messages[1]["tool_calls"][0]
    assert call["id"] == tool["toolCallId"] and call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == tool["input"]
    assert messages[2] == {
        "role": "tool",
        "tool_call_id": tool["toolCallId"],
        "content": json.dumps(tool["output"], ensure_ascii=False, separators=(",", ":")),
    }
    assert messages[3]["content"] == text_of(first_answer).removeprefix(
        messages[1]["content"] or ""
    )
    assert messages[4] == {"role": "user", "content": "turn 2"}


def test_a_malformed_body_is_a_422_naming_the_field(server: LiveServer) -> None:
    body = {"id": "c", "messages": [{"id": "m", "role": "robot", "parts": []}]}
    response = httpx.post(server.url("/chat/empty/5"), json=body, timeout=10)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "messages", 0, "role"]
    bad_part = {"id": "m", "role": "user", "parts": [{"type": "text"}]}
    response = httpx.post(server.url("/chat/empty/5"), json={"messages": [bad_part]}, timeout=10)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "messages", 0, "parts", 0, "text", "text"]


# -- the other direction: what the AI SDK's own server writes ----------------------------------


@pytest.fixture(scope="module")
def official_stream() -> dict[str, Any]:
    """The AI SDK 7 server's response (`streamText` over a mock model, two steps, a tool)."""
    node = ensure_node_ui()
    proc = subprocess.run(
        [node, "official_server.mjs"], cwd=NODE_UI, capture_output=True, timeout=60, check=True
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_our_decoder_reads_the_ai_sdk_server_strictly(official_stream: dict[str, Any]) -> None:

    assert detect_protocol(official_stream["headers"]) == "ui-message-stream"
    body = official_stream["body"].encode()
    message = accumulate(UIMessageStreamDecoder(strict=True).decode(body))
    assert [part.type for part in message.parts] == [
        "reasoning",
        "text",
        "tool-call",
        "source",
        "text",
    ]
    assert message.text == "Let me check.It is 18 C in Paris."
    [call] = message.tool_calls
    assert (call.tool_call_id, call.tool_name, call.args, call.result) == (
        "call_1",
        "get_weather",
        {"city": "Paris"},
        {"tempC": 18},
    )
    assert message.errors == [] and message.finish_reason == "stop"
    assert message.usage == {"input_tokens": 40, "output_tokens": 25}


def test_check_passes_the_ai_sdk_server_output(
    official_stream: dict[str, Any],
    live_server: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Our `check` rules hold for the reference server (no false alarms)."""

    async def endpoint(request: Request) -> Response:
        headers = {
            k: v for k, v in official_stream["headers"].items() if k not in ("content-type",)
        }
        return Response(official_stream["body"], media_type="text/event-stream", headers=headers)

    server = live_server(Starlette(routes=[Route("/", endpoint, methods=["POST"])]))
    assert main(["check", server.url("/"), "--format", "ui-message-stream", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    problems = [r for r in report["results"] if r["status"] != "pass" and r["level"] == "MUST"]
    assert problems == []
    assert {"parts-closed", "part-order", "finish", "frame-shape"} <= {
        r["id"] for r in report["results"] if r["status"] == "pass"
    }
