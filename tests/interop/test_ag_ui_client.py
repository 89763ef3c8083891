"""The real ``@ag-ui/client`` 1.0 ``HttpAgent`` runs against our AG-UI endpoint on uvicorn.

Every run must pass the client's own verification (``verifyEvents``), schema enforcement and
state patching with zero errors and zero warnings (the client reports stripped fields and
patches that do not apply only as console warnings), and leave ``agent.messages`` and
``agent.state`` holding what the run made. The requests the client sent are parsed back with
our `RunAgentInput`.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import shutil
import subprocess
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import run_provider
from assistant_stream_ce.serialization.ag_ui import AGUIResponse
from assistant_stream_ce.serialization.ag_ui_input import RunAgentInput

pytestmark = [pytest.mark.interop, pytest.mark.http]

NODE_DIR = pathlib.Path(__file__).resolve().parent / "node_agui"
_install_lock = threading.Lock()
TRICKY = 'emoji 😀, CJK 漢字, seps \u2028 \u2029 \x85, crlf \r\n, quote " \\ end'


def ensure_client() -> str:
    """``node`` on PATH and ``@ag-ui/client`` installed in NODE_DIR (``npm ci``)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("the AG-UI interop tests need Node.js (>= 20) and npm on PATH")
    with _install_lock:
        if not (NODE_DIR / "node_modules" / "@ag-ui" / "client" / "package.json").is_file():
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
            )
    return node


def run_http_agent(url: str, **config: Any) -> dict[str, Any]:
    """One ``HttpAgent.runAgent`` against ``url``; the harness's JSON report."""
    node = ensure_client()
    proc = subprocess.run(
        [node, str(NODE_DIR / "run_agent.mjs")],
        input=json.dumps({"url": url, **config}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


# -- the runs ----------------------------------------------------------------------------------


async def rich_run(controller: RunController) -> None:
    """Text, reasoning, two tool calls with interleaved streamed arguments and results (one an
    error), a source, a file, data, state (root set, nested set, append) and usage over two
    steps."""
    controller.add_step_start("step_1")
    controller.append_reasoning("Thinking about ")
    await asyncio.sleep(0)
    controller.append_reasoning("weather and time.")
    controller.append_text("Checking two things. ")
    controller.state = {"city": "Paris", "log": "", "a/b": {"c~d": 0}}
    weather = await controller.add_tool_call("get_weather", "call_weather")
    clock = await controller.add_tool_call("get_time", "call_time")
    weather.append_args_text('{"city":')
    await asyncio.sleep(0)
    clock.append_args_text('{"tz":"Europe/Paris"}')
    await asyncio.sleep(0)
    weather.append_args_text('"Paris"}')
    clock.set_response("clock unavailable", is_error=True)
    weather.set_response({"tempC": 18}, artifact={"raw": "18C"})
    controller.state["log"] += "weather;"
    await asyncio.sleep(0)
    controller.state["log"] += "time;"
    controller.state["a/b"]["c~d"] = 1
    controller.state["nested"] = {"deep": [1]}
    controller.add_step_finish("tool-calls", 10, 20)
    controller.add_step_start("step_2")
    controller.append_text("It is 18 C in Paris. ")
    await asyncio.sleep(0)
    controller.append_text(TRICKY)
    controller.add_source("src_1", "https://weather.example/paris", "Paris forecast")
    controller.add_file("aGVsbG8=", "text/plain")
    controller.add_data({"kind": "note"})
    controller.state["nested"]["deep"].append(2)
    controller.add_step_finish("stop", 30, 10)


async def add_error_run(controller: RunController) -> None:
    controller.append_text("Working on it.")
    tool = await controller.add_tool_call("lookup", "call_1")
    tool.append_args_text('{"q":')
    controller.add_error("the lookup service is down")
    controller.append_text("never sent")


async def raising_run(controller: RunController) -> None:
    controller.append_reasoning("about to fail")
    controller.append_text("Let me check.")
    await asyncio.sleep(0)
    raise RuntimeError("upstream model timed out")


async def empty_run(controller: RunController) -> None:
    return None


async def cancelled_run(controller: RunController) -> None:
    controller.append_text("Working on it")
    await asyncio.sleep(0)
    raise asyncio.CancelledError


async def client_tool_run(controller: RunController) -> None:
    tool = await controller.add_tool_call("confirm", "call_confirm")
    tool.append_args_text('{"ok":true}')


RUNS: dict[str, Callable[[RunController], Any]] = {
    "rich": rich_run,
    "add-error": add_error_run,
    "raises": raising_run,
    "empty": empty_run,
    "client-tool": client_tool_run,
    "cancelled": cancelled_run,
}


def make_app(bodies: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/agent/{name}")
    async def agent(name: str, request: Request) -> Response:
        body = await request.json()
        bodies.append(body)
        run_input = RunAgentInput.model_validate(body)
        if name == "provider":
            messages = run_input.provider_messages()

            async def callback(controller: RunController) -> None:
                await run_provider(
                    controller, messages, provider="offline", pace=0, update_state=True
                )
        else:
            callback = RUNS[name]
        return AGUIResponse(create_run(callback, state=run_input.state), input=run_input)

    return app


@pytest.fixture(scope="module")
def server() -> Any:
    bodies: list[dict[str, Any]] = []
    live = LiveServer(make_app(bodies)).start()
    live.bodies = bodies  # type: ignore[attr-defined]
    yield live
    live.stop()


def clean(report: dict[str, Any]) -> None:
    """Zero verification errors, schema deviations and patch failures."""
    assert report["ok"], report["error"]
    assert report["warnings"] == [], report["warnings"]
    assert report["errors"] == [], report["errors"]


def by_role(report: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [message for message in report["messages"] if message["role"] == role]


# -- the tests -----------------------------------------------------------------------------------


def test_rich_run(server: LiveServer) -> None:
    user = {"id": "u1", "role": "user", "content": "Weather and time in Paris?"}
    report = run_http_agent(
        server.url("/agent/rich"), threadId="thread-rich", messages=[user], state={"seen": 1}
    )
    clean(report)
    events = report["events"]
    assert events[0] == "RUN_STARTED" and events[-1] == "RUN_FINISHED"
    assert events[1] == "STATE_SNAPSHOT"  # the initial state
    assert "STATE_DELTA" in events and "REASONING_MESSAGE_CONTENT" in events
    assert events.count("STEP_STARTED") == events.count("STEP_FINISHED") == 2

    assert [m["content"] for m in by_role(report, "reasoning")] == [
        "Thinking about weather and time."
    ]
    assistants = by_role(report, "assistant")
    texts = [m.get("content") for m in assistants if m.get("content")]
    assert texts == ["Checking two things. ", "It is 18 C in Paris. " + TRICKY]
    calls = {call["id"]: call for m in assistants for call in m.get("toolCalls", [])}
    assert {
        cid: (c["function"]["name"], c["function"]["arguments"]) for cid, c in calls.items()
    } == {
        "call_weather": ("get_weather", '{"city":"Paris"}'),
        "call_time": ("get_time", '{"tz":"Europe/Paris"}'),
    }
    # both calls belong to the text message they followed
    assert assistants[0]["content"] == "Checking two things. "
    assert [c["id"] for c in assistants[0]["toolCalls"]] == ["call_weather", "call_time"]
    tools = {m["toolCallId"]: m for m in by_role(report, "tool")}
    assert json.loads(tools["call_weather"]["content"]) == {"tempC": 18}
    assert tools["call_weather"]["metadata"] == {
        "contentType": "application/json",
        "artifact": {"raw": "18C"},
    }
    assert tools["call_time"]["content"] == "clock unavailable"
    assert tools["call_time"]["metadata"] == {"isError": True}

    assert report["state"] == {
        "city": "Paris",
        "log": "weather;time;",
        "a/b": {"c~d": 1},
        "nested": {"deep": [1, 2]},
    }
    assert report["finished"]["usage"] == [
        {"inputTokens": 40, "outputTokens": 30, "totalTokens": 70}
    ]
    assert report["finished"]["pendingToolCallIds"] == []
    assert report["runErrors"] == []
    assert report["customs"] == [
        {
            "name": "source",
            "value": {
                "sourceType": "url",
                "id": "src_1",
                "url": "https://weather.example/paris",
                "title": "Paris forecast",
            },
        },
        {"name": "file", "value": {"data": "aGVsbG8=", "mimeType": "text/plain"}},
        {"name": "data", "value": {"kind": "note"}},
    ]


def test_add_error_ends_the_run_with_run_error(server: LiveServer) -> None:
    report = run_http_agent(server.url("/agent/add-error"), threadId="thread-err", messages=[])
    clean(report)
    assert report["events"][-1] == "RUN_ERROR"
    assert "RUN_FINISHED" not in report["events"]
    assert report["runErrors"] == [{"message": "the lookup service is down", "code": None}]
    (assistant,) = by_role(report, "assistant")
    assert assistant["content"] == "Working on it."
    assert [(c["id"], c["function"]["arguments"]) for c in assistant["toolCalls"]] == [
        ("call_1", '{"q":')
    ]
    assert "never sent" not in json.dumps(report["messages"])


def test_a_callback_that_raises_ends_with_run_error(server: LiveServer) -> None:
    report = run_http_agent(server.url("/agent/raises"), threadId="thread-raise", messages=[])
    clean(report)
    assert report["events"][-1] == "RUN_ERROR"
    assert report["runErrors"][0]["message"] == "upstream model timed out"
    assert [m["content"] for m in by_role(report, "reasoning")] == ["about to fail"]
    assert [m["content"] for m in by_role(report, "assistant")] == ["Let me check."]


def test_empty_run(server: LiveServer) -> None:
    report = run_http_agent(server.url("/agent/empty"), threadId="thread-empty", messages=[])
    clean(report)
    assert report["events"] == ["RUN_STARTED", "STATE_SNAPSHOT", "RUN_FINISHED"]
    assert report["messages"] == [] and report["state"] == {}
    assert report["finished"]["outcome"] == "success"


def test_a_cancelled_run_finishes_with_the_cancelled_outcome(server: LiveServer) -> None:
    report = run_http_agent(server.url("/agent/cancelled"), threadId="thread-c", messages=[])
    clean(report)
    assert report["events"][-1] == "RUN_FINISHED"
    assert report["finished"]["outcome"] == "cancelled"
    assert [m["content"] for m in by_role(report, "assistant")] == ["Working on it"]


def test_a_call_left_to_the_client_is_pending(server: LiveServer) -> None:
    report = run_http_agent(server.url("/agent/client-tool"), threadId="thread-ct", messages=[])
    clean(report)
    assert report["finished"]["pendingToolCallIds"] == ["call_confirm"]
    (assistant,) = by_role(report, "assistant")
    assert assistant["toolCalls"][0]["function"]["arguments"] == '{"ok":true}'


def test_offline_provider_output_and_the_clients_request(server: LiveServer) -> None:
    history = [
        {"id": "u1", "role": "user", "content": "What is the weather in Paris?"},
        {
            "id": "a1",
            "role": "assistant",
            "content": "Let me check.",
            "toolCalls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"id": "t1", "role": "tool", "toolCallId": "call_0", "content": '{"tempC":18}'},
        {"id": "u2", "role": "user", "content": "And in Rome?"},
    ]
    tools = [{"name": "confirm", "description": "Ask the user", "parameters": {"type": "object"}}]
    count = len(server.bodies)  # type: ignore[attr-defined]
    report = run_http_agent(
        server.url("/agent/provider"),
        threadId="thread-provider",
        messages=history,
        state={"visits": 1},
        tools=tools,
        context=[{"description": "User locale", "value": "fr-FR"}],
    )
    clean(report)
    new = report["newMessages"]
    assert any(m["role"] == "assistant" and m.get("content") for m in new)
    assert report["state"]["visits"] == 1 and len(report["state"]) > 1  # the model's updates
    assert report["events"][-1] == "RUN_FINISHED"

    (body,) = server.bodies[count:]  # type: ignore[attr-defined]
    assert body["protocolVersion"] == "1.0" and body["threadId"] == "thread-provider"
    parsed = RunAgentInput.model_validate(body)
    assert parsed.state == {"visits": 1}
    assert parsed.provider_tools() == [
        {
            "type": "function",
            "function": {
                "name": "confirm",
                "description": "Ask the user",
                "parameters": {"type": "object"},
            },
        }
    ]
    assert parsed.provider_messages() == [
        {"role": "system", "content": "User locale:\nfr-FR"},
        {"role": "user", "content": "What is the weather in Paris?"},
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_0", "content": '{"tempC":18}'},
        {"role": "user", "content": "And in Rome?"},
    ]


def test_the_harness_reports_what_the_client_complains_about(live_server: Any) -> None:
    """The checks above can fail: the client's warnings and verification errors reach us."""

    def sse(*events: dict[str, Any]) -> bytes:
        return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)

    started = {"type": "RUN_STARTED", "threadId": "t", "runId": "r"}
    finished = {"type": "RUN_FINISHED", "threadId": "t", "runId": "r"}
    bodies = {
        "bad-patch": sse(
            started,
            {"type": "STATE_DELTA", "delta": [{"op": "replace", "path": "/x", "value": 1}]},
            finished,
        ),
        "left-open": sse(started, {"type": "TEXT_MESSAGE_START", "messageId": "m"}, finished),
        "null-field": sse(
            started,
            {
                "type": "TOOL_CALL_START",
                "toolCallId": "c",
                "toolCallName": "x",
                "parentMessageId": None,
            },
            {"type": "TOOL_CALL_END", "toolCallId": "c"},
            finished,
        ),
    }
    app = FastAPI()

    @app.post("/{name}")
    async def endpoint(name: str) -> Response:
        return Response(bodies[name], media_type="text/event-stream")

    server = live_server(app)
    bad_patch = run_http_agent(server.url("/bad-patch"), threadId="t")
    assert bad_patch["ok"] and "Failed to apply state patch" in bad_patch["warnings"][0]
    left_open = run_http_agent(server.url("/left-open"), threadId="t")
    assert not left_open["ok"] and "still active" in left_open["error"]
    null_field = run_http_agent(server.url("/null-field"), threadId="t")
    assert "parentMessageId: null" in null_field["warnings"][0]


def test_the_example_app_serves_the_http_agent(live_server: Any) -> None:
    """examples/ag_ui_fastapi.py, as shipped, against the real client: two turns."""
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "ag_ui_fastapi.py"
    namespace: dict[str, Any] = {"__name__": "ag_ui_fastapi"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    server = live_server(namespace["app"])
    question = {"id": "u1", "role": "user", "content": "What is the weather in Paris?"}
    first = run_http_agent(
        server.url("/agent"), threadId="thread-example", messages=[question], state={"visits": 0}
    )
    clean(first)
    assert first["state"]["visits"] == 1 and first["events"][-1] == "RUN_FINISHED"
    assert any(m["role"] == "tool" for m in first["messages"])  # the offline model's tool call
    follow_up = {"id": "u2", "role": "user", "content": "Thanks!"}
    second = run_http_agent(
        server.url("/agent"),
        threadId="thread-example",
        messages=[*first["messages"], follow_up],
        state=first["state"],
    )
    clean(second)
    assert second["state"]["visits"] == 2
    assert len(second["messages"]) > len(first["messages"]) + 1
