"""An approval through the real ``@ag-ui/client`` 1.0 ``HttpAgent`` against uvicorn: the run
ends with an ``interrupt`` outcome; the client's next ``runAgent({resume})`` posts the answer,
`chat_request("ag-ui")` parses it, and the approved call runs (a cancelled one never does);
its result joins the call the client holds (``continued_tool_calls``), whose arguments stay whole.
A history given to the client as its initial messages (`to_ag_ui_messages`) comes back intact."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from test_ag_ui_client import NODE_DIR, ensure_client, run_http_agent

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.history import to_ag_ui_messages
from assistant_stream_ce.providers import run_provider, tool
from assistant_stream_ce.requests import ChatRequest, chat_request
from assistant_stream_ce.serialization.ag_ui import AGUIResponse

pytestmark = [pytest.mark.interop, pytest.mark.http]

RAN: list[str] = []


@tool(needs_approval=True)
async def get_weather(city: str) -> dict[str, Any]:
    """The weather in a city (a person approves each call)."""
    RAN.append(city)
    return {"city": city, "tempC": 12}


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/agent")
    async def agent(
        request: Annotated[ChatRequest, Depends(chat_request("ag-ui"))],
    ) -> AGUIResponse:
        async def run(controller: RunController) -> None:
            await run_provider(
                controller,
                request.messages,
                provider="offline",
                tools=[get_weather],
                answers=request.answers,
                pace=0,
            )

        return AGUIResponse(
            create_run(run, state=request.state),
            thread_id=request.thread_id,
            run_id=request.run_id,
            continued_tool_calls=[answer.tool_call_id for answer in request.answers],
        )

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(make_app()).start()
    yield live
    live.stop()


def drive(url: str, decision: str) -> dict[str, Any]:
    return resume_agent(
        {
            "url": url,
            "threadId": "thread-approval",
            "messages": [{"id": "u1", "role": "user", "content": "What is the weather in Bergen?"}],
            "decision": decision,
        }
    )


def resume_agent(config: dict[str, Any]) -> dict[str, Any]:
    """Run ``resume_agent.mjs`` with ``config`` (see the script); its JSON report."""
    node = ensure_client()
    proc = subprocess.run(
        [node, "resume_agent.mjs"],
        cwd=NODE_DIR,
        input=json.dumps(config).encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"resume_agent.mjs exited {proc.returncode}: {proc.stderr.decode()}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_interrupt_then_resume(server: LiveServer, decision: str) -> None:
    RAN.clear()
    result = drive(server.url("/agent"), decision)
    assert result["ok"], result["error"]
    assert result["errors"] == [] and result["warnings"] == []
    first, second = result["outcomes"]
    assert first["type"] == "interrupt"
    [interrupt] = result["pending"]
    assert interrupt["reason"] == "tool_approval" and interrupt["id"].startswith("approval_")
    assert second["type"] == "success"
    assert result["bodies"][1]["resume"][0]["interruptId"] == interrupt["id"]
    calls = [c for m in result["messages"] for c in m.get("toolCalls") or ()]
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [{"city": "Bergen"}]
    texts = [m.get("content") for m in result["messages"] if m["role"] == "assistant"]
    if decision == "approve":
        assert RAN == ["Bergen"]
        assert any(
            isinstance(t, str) and t.endswith('The tool returned: {"city": "Bergen", "tempC": 12}')
            for t in texts
        ), texts
    else:
        assert RAN == []
        assert any(
            isinstance(t, str) and t.endswith("The tool returned: The user denied this tool call.")
            for t in texts
        ), texts


HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": "Weather in Paris?"},
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
    {"role": "assistant", "content": "It is 18 °C."},
    {"role": "user", "content": "And tomorrow?"},
]


def test_history_as_initial_messages_round_trips_through_the_client() -> None:
    """`to_ag_ui_messages` → the client's initialMessages → its request → the same history."""
    seen: list[ChatRequest] = []
    app = FastAPI()

    @app.post("/agent")
    async def agent(
        request: Annotated[ChatRequest, Depends(chat_request("ag-ui"))],
    ) -> AGUIResponse:
        seen.append(request)

        async def run(controller: RunController) -> None:
            controller.append_text("ok")

        return AGUIResponse(create_run(run), thread_id=request.thread_id, run_id=request.run_id)

    live = LiveServer(app).start()
    try:
        report = run_http_agent(
            live.url("/agent"), threadId="t-history", messages=to_ag_ui_messages(HISTORY)
        )
    finally:
        live.stop()
    assert report["ok"], report["error"]
    assert report["warnings"] == [] and report["errors"] == []
    [request] = seen
    assert request.messages == HISTORY
