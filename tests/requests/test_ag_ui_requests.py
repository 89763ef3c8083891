"""AG-UI through `parse_request`: the body ``@ag-ui/client``'s ``HttpAgent`` POSTs (captured by
the AG-UI work, tests/ag_ui/http_agent_body.json), and an approval as an interrupt that the next
request's ``resume`` answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from _util import encode
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import run_provider, tool
from assistant_stream_ce.requests import RequestError, ToolAnswer, parse_request
from assistant_stream_ce.serialization.ag_ui import AGUIEncoder
from fakes.run_result import run

BODY = json.loads((Path(__file__).parents[1] / "ag_ui" / "http_agent_body.json").read_text())


def test_http_agent_body() -> None:
    request = parse_request(json.dumps(BODY).encode(), protocol="ag-ui")
    assert (request.thread_id, request.run_id) == ("thread-7", BODY["runId"])
    assert request.state == {"city": "Paris", "visits": 2}
    assert request.system == "User locale:\nfr-FR\n\nYou are terse."
    assert [m["role"] for m in request.messages] == [
        "developer",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "user",
    ]
    assert request.messages[2]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    assert request.messages[4] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "image too large",
    }
    assert [(t.name, t.parameters["required"]) for t in request.tools] == [
        ("confirm", ["question"])
    ]
    assert request.extra["forwardedProps"] == {"theme": "dark"}
    assert request.answers == []  # the last message is the user's


def test_malformed_ag_ui_body_names_the_field() -> None:
    body = {**BODY, "messages": [{"id": "m", "role": "tool", "content": "x"}]}
    with pytest.raises(RequestError) as info:
        parse_request(body, protocol="ag-ui")
    assert info.value.protocol == "ag-ui"
    assert info.value.field == "messages[0].tool.toolCallId"


RAN: list[str] = []


@tool(needs_approval=True)
def get_weather(city: str) -> str:
    """Weather (a person approves each call)."""
    RAN.append(city)
    return "sunny"


QUESTION = {"id": "u1", "role": "user", "content": "What is the weather in Oslo?"}


def agent_callback(messages: list[dict[str, Any]], answers: Any = ()) -> Any:
    async def callback(controller: RunController) -> None:
        await run_provider(
            controller, messages, provider="offline", tools=[get_weather], answers=answers, pace=0
        )

    return callback


@pytest.mark.parametrize(
    ("resume", "expected"),
    [
        ({"status": "resolved", "payload": {"approved": True}}, "The tool returned: sunny"),
        (
            {"status": "resolved", "payload": {"approved": False, "reason": "no"}},
            "The tool returned: The user denied this tool call. Reason: no",
        ),
        ({"status": "cancelled"}, "The tool returned: The user denied this tool call."),
    ],
)
async def test_approval_interrupt_then_resume(resume: dict[str, Any], expected: str) -> None:
    RAN.clear()
    first = parse_request(
        {"threadId": "t", "runId": "r1", "messages": [QUESTION], "tools": [], "context": []},
        protocol="ag-ui",
    )
    body = await encode(
        AGUIEncoder(thread_id="t", run_id="r1"), create_run(agent_callback(first.messages))
    )
    events = [
        json.loads(line[6:]) for line in body.decode().split("\n") if line.startswith("data: {")
    ]
    finished = events[-1]
    assert finished["type"] == "RUN_FINISHED"
    [interrupt] = finished["outcome"]["interrupts"]
    assert finished["outcome"]["type"] == "interrupt" and interrupt["reason"] == "tool_approval"
    call_id = interrupt["toolCallId"]
    assert interrupt["id"] == f"approval_{call_id}" and RAN == []
    start = next(e for e in events if e["type"] == "TOOL_CALL_START")
    args = "".join(e["delta"] for e in events if e["type"] == "TOOL_CALL_ARGS")
    # the client's next run: its history (with the pending call) and the interrupt's answer
    second = parse_request(
        {
            "threadId": "t",
            "runId": "r2",
            "messages": [
                QUESTION,
                {
                    "id": "a1",
                    "role": "assistant",
                    "content": "Let me check the weather in Oslo. ",
                    "toolCalls": [
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": start["toolCallName"], "arguments": args},
                        }
                    ],
                },
            ],
            "tools": [],
            "context": [],
            "resume": [{"interruptId": interrupt["id"], **resume}],
        },
        protocol="ag-ui",
    )
    [answer] = second.answers
    assert isinstance(answer, ToolAnswer) and answer.kind == "approval"
    assert answer.arguments == {"city": "Oslo"}
    result = await run(agent_callback(second.messages, second.answers))
    assert result.error is None
    assert result.text.endswith(expected)
    assert (["Oslo"] if expected.endswith("sunny") else []) == RAN
