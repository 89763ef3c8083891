"""Client tools and approvals across two requests: the run ends with the call unanswered (or an
approval request, in each protocol's own form); the next request's answers continue the loop
(`parse_request` gives them, `run_provider(answers=...)` applies them)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from _util import encode
from assistant_stream_ce import RunController, accumulate, create_run
from assistant_stream_ce.providers import run_provider, tool
from assistant_stream_ce.requests import parse_request
from assistant_stream_ce.serialization import PROTOCOLS
from assistant_stream_ce.serialization.ui_message_stream import UIMessageStreamEncoder
from fakes.fake_provider import FakeProvider
from fakes.run_result import SECRET_KEY, RunResult, run

pytestmark = pytest.mark.http

QUESTION = [{"role": "user", "content": "Weather, time and a lookup?"}]
RAN: list[str] = []


def get_weather(city: str) -> dict[str, Any]:
    """Weather."""
    RAN.append("get_weather")
    return {"tempC": 18}


@tool(needs_approval=True)
def get_time(tz: str) -> str:
    """The time (needs a person's approval)."""
    RAN.append("get_time")
    return "12:00"


def lookup(q: str) -> str:
    """Lookup."""
    RAN.append("lookup")
    return "found"


TOOLS = [get_weather, get_time, lookup]


def callback_for(fake: FakeProvider, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
    async def callback(controller: RunController) -> None:
        await run_provider(
            controller,
            messages,
            provider="openai",
            model="agent",
            api_key=SECRET_KEY,
            base_url=fake.openai_base_url,
            **kwargs,
        )

    return callback


async def ui_frames(
    callback: Any, sdk_version: int, message_id: str | None = None, continued: Any = ()
) -> list[Any]:
    encoder = UIMessageStreamEncoder(
        sdk_version=sdk_version, message_id=message_id, continued_tool_calls=continued
    )
    body = await encode(encoder, create_run(callback))
    return [
        json.loads(line[6:]) for line in body.decode().split("\n") if line.startswith("data: {")
    ]


async def test_a_tool_needing_approval_ends_the_run_with_an_approval_request(
    fake_provider: FakeProvider,
) -> None:
    RAN.clear()
    frames = await ui_frames(callback_for(fake_provider, QUESTION, tools=TOOLS), 7)
    assert RAN == ["get_weather"]  # get_time waits for its approval
    assert {
        "type": "tool-approval-request",
        "approvalId": "approval_call_time",
        "toolCallId": "call_time",
    } in frames
    assert [f for f in frames if f["type"] == "tool-output-available"] == [
        {"type": "tool-output-available", "toolCallId": "call_weather", "output": {"tempC": 18}}
    ]
    assert frames[-1]["finishReason"] == "tool-calls"
    # ai 5 has no approvals: the call is left unanswered, no approval chunk (strict 5.x rejects it)
    frames5 = await ui_frames(callback_for(fake_provider, QUESTION, tools=TOOLS), 5)
    assert not [f for f in frames5 if f["type"] == "tool-approval-request"]
    # our decoder and accumulator read the approval back
    result = await run(callback_for(fake_provider, QUESTION, tools=TOOLS))
    kinds = [c.type for c in result.chunks]
    assert kinds.index("tool-approval-request") > kinds.index("step-finish")
    message = accumulate(result.chunks)
    [pending] = [c for c in message.tool_calls if c.tool_call_id == "call_time"]
    assert pending.approval_id == "approval_call_time" and not pending.has_result
    assert message.finish_reason == "tool-calls"


def ai_continuation(approved: bool, reason: str | None = None) -> dict[str, Any]:
    """The body ai 6/7's chat POSTs after addToolApprovalResponse (requests.md)."""
    approval: dict[str, Any] = {"id": "approval_call_time", "approved": approved}
    if reason:
        approval["reason"] = reason
    return {
        "id": "chat-1",
        "messages": [
            {
                "id": "u1",
                "role": "user",
                "parts": [{"type": "text", "text": QUESTION[0]["content"]}],
            },
            {
                "id": "msg_a1",
                "role": "assistant",
                "parts": [
                    {"type": "step-start"},
                    {"type": "text", "text": "Let me check.", "state": "done"},
                    {
                        "type": "tool-get_weather",
                        "toolCallId": "call_weather",
                        "state": "output-available",
                        "input": {"city": "Paris"},
                        "output": {"tempC": 18},
                    },
                    {
                        "type": "tool-get_time",
                        "toolCallId": "call_time",
                        "state": "approval-responded",
                        "input": {"tz": "Europe/Paris"},
                        "approval": approval,
                    },
                ],
            },
        ],
        "trigger": "submit-message",
        "messageId": "msg_a1",
    }


async def test_an_approved_call_runs_and_the_model_continues(fake_provider: FakeProvider) -> None:
    RAN.clear()
    request = parse_request(ai_continuation(True), protocol="ui-message-stream")
    assert [a.tool_call_id for a in request.unapplied_answers()] == ["call_time"]
    callback = callback_for(fake_provider, request.messages, tools=TOOLS, answers=request.answers)
    continued = [answer.tool_call_id for answer in request.answers]
    frames = await ui_frames(callback, 7, message_id=request.message_id, continued=continued)
    assert frames[0] == {"type": "start", "messageId": "msg_a1"}
    # the continued message holds the call: only its outcome is written, not a second part
    assert not [f for f in frames if f.get("toolCallId") == "call_time" and "input" in f["type"]]
    assert RAN == ["get_time", "lookup"]
    outputs = {f["toolCallId"]: f["output"] for f in frames if f["type"] == "tool-output-available"}
    assert outputs == {"call_time": "12:00", "call_lookup": "found"}
    # the model's first request of this turn carried both results, in a valid order
    sent = fake_provider.requests[0].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "assistant", "tool"]
    assert sent[3]["tool_calls"][0]["id"] == "call_time" and sent[4]["content"] == "12:00"
    text = "".join(f["delta"] for f in frames if f["type"] == "text-delta")
    assert "call_time=12:00" in text and "call_lookup=found" in text


async def test_a_denied_call_is_reported_to_the_model_and_the_client(
    fake_provider: FakeProvider,
) -> None:
    RAN.clear()
    request = parse_request(ai_continuation(False, "not now"), protocol="ui-message-stream")
    callback = callback_for(fake_provider, request.messages, tools=TOOLS, answers=request.answers)
    frames = await ui_frames(callback, 6, message_id=request.message_id)
    assert "get_time" not in RAN
    assert {"type": "tool-output-denied", "toolCallId": "call_time"} in frames
    sent = fake_provider.requests[0].body["messages"]
    denial = next(m for m in sent if m.get("tool_call_id") == "call_time")
    assert denial["content"] == "The user denied this tool call. Reason: not now"
    text = "".join(f["delta"] for f in frames if f["type"] == "text-delta")
    assert "call_time=The user denied this tool call. Reason: not now" in text


async def test_assistant_transport_client_tool_then_approval_by_tool_result(
    fake_provider: FakeProvider,
) -> None:
    """assistant-ui: the frontend's tools are client tools; an approval is answered with
    ``add-tool-result`` ``{"approved": true}``; the server holds the history."""
    RAN.clear()
    first = parse_request(
        {
            "commands": [
                {
                    "type": "add-message",
                    "message": {"role": "user", "parts": [{"type": "text", "text": "Go"}]},
                    "parentId": None,
                    "sourceId": None,
                }
            ],
            "state": {},
            "tools": {"get_weather": {"parameters": {"type": "object"}}},
            "threadId": "t-1",
            "runConfig": {},
        },
        protocol="assistant-transport",
    )
    stored: list[dict[str, Any]] = []

    async def turn_one(controller: RunController) -> None:
        stored.extend(
            await run_provider(
                controller,
                first.messages,
                provider="openai",
                model="agent",
                api_key=SECRET_KEY,
                base_url=fake_provider.openai_base_url,
                tools=[get_time, *first.tools],  # get_weather is the frontend's tool
            )
        )

    info = PROTOCOLS["assistant-transport"]
    body = await encode(info.encoder(), create_run(turn_one))
    events = [
        json.loads(line[6:]) for line in body.decode().split("\n") if line.startswith("data: {")
    ]
    assert RAN == []  # nothing ran on the server: one client tool, one waiting for approval
    starts = [
        e["part"] for e in events if e["type"] == "part-start" and e["part"]["type"] == "tool-call"
    ]
    assert {p["toolName"] for p in starts} == {"get_weather", "get_time"}
    assert not [e for e in events if e["type"] == "result"]  # both calls unanswered
    # The server stores the assistant turn it streamed (here: from the accumulated message).
    message = accumulate([c async for c in info.decoder().decode_stream(_once(body))])
    stored.append(
        {
            "role": "assistant",
            "content": message.text,
            "tool_calls": [
                {
                    "id": c.tool_call_id,
                    "type": "function",
                    "function": {"name": c.tool_name, "arguments": c.args_text},
                }
                for c in message.tool_calls
            ],
        }
    )
    second = parse_request(
        {
            "commands": [
                {
                    "type": "add-tool-result",
                    "toolCallId": "call_weather",
                    "toolName": "get_weather",
                    "result": {"tempC": 21},
                    "isError": False,
                },
                {
                    "type": "add-tool-result",
                    "toolCallId": "call_time",
                    "toolName": "get_time",
                    "result": {"approved": True},
                    "isError": False,
                },
            ],
            "state": {},
            "tools": {"get_weather": {"parameters": {"type": "object"}}},
            "threadId": "t-1",
            "runConfig": {},
        },
        protocol="assistant-transport",
    )
    fake_provider.reset()
    result: RunResult = await run(
        callback_for(
            fake_provider,
            stored + second.messages,
            tools=[get_time, lookup, *second.tools],
            answers=second.answers,
        )
    )
    assert RAN == ["get_time", "lookup"]
    assert result.tool_calls["call_time"].result == "12:00"
    sent = fake_provider.requests[0].body["messages"]
    # the answers are added right after the stored assistant turn that made the calls
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    assert {m["tool_call_id"]: m["content"] for m in sent if m["role"] == "tool"} == {
        "call_weather": '{"tempC": 21}',
        "call_time": "12:00",
    }
    assert 'call_weather={"tempC": 21}' in result.text


async def _once(body: bytes) -> Any:
    yield body


@pytest.mark.parametrize("name", list(PROTOCOLS))
async def test_a_frontend_tool_is_left_unanswered_in_every_protocol(
    fake_provider: FakeProvider, name: str
) -> None:
    info = PROTOCOLS[name]
    frontend = parse_request(
        {
            "messages": [{"role": "user", "content": "x"}],
            "tools": [
                {
                    "type": "function",
                    "function": {"name": "get_time", "parameters": {"type": "object"}},
                }
            ],
        },
        protocol="openai",
    )
    callback = callback_for(fake_provider, QUESTION, tools=[get_weather, *frontend.tools])
    body = await encode(info.encoder(), create_run(callback))
    message = accumulate([c async for c in info.decoder().decode_stream(_once(body))])
    if "tool-calls" in info.carries:
        calls = {c.tool_call_id: c for c in message.tool_calls}
        assert not calls["call_time"].has_result and calls["call_time"].args == {
            "tz": "Europe/Paris"
        }
        assert message.finish_reason == "tool-calls"
    else:
        assert message.tool_calls == []
    assert message.errors == []


@pytest.mark.parametrize("name", list(PROTOCOLS))
async def test_an_approval_request_in_every_protocol(
    fake_provider: FakeProvider, name: str
) -> None:
    """Each protocol shows a call waiting for approval its own way, and never fails on it."""
    info = PROTOCOLS[name]
    body = await encode(
        info.encoder(), create_run(callback_for(fake_provider, QUESTION, tools=TOOLS))
    )
    message = accumulate([c async for c in info.decoder().decode_stream(_once(body))])
    assert message.errors == []
    if name == "rais":
        assert "[get_time needs a person's approval before it runs" in message.text
    if "tool-calls" in info.carries:
        pending = {c.tool_call_id: c for c in message.tool_calls}["call_time"]
        assert not pending.has_result  # unanswered: assistant-ui's and OpenAI's form
        assert message.finish_reason == "tool-calls"


async def test_ai5_client_approves_with_a_tool_output(fake_provider: FakeProvider) -> None:
    """ai 5 has no approval chunks: the call reaches ``onToolCall`` and the app answers it with
    ``addToolResult({output: {approved: true}})``; the server then runs it."""
    RAN.clear()
    body = ai_continuation(True)
    part = body["messages"][1]["parts"][3]
    del part["approval"]
    part.update(state="output-available", output={"approved": True})
    request = parse_request(body, protocol="ui-message-stream")
    continued = [answer.tool_call_id for answer in request.answers]
    callback = callback_for(fake_provider, request.messages, tools=TOOLS, answers=request.answers)
    frames = await ui_frames(callback, 5, message_id=request.message_id, continued=continued)
    assert RAN == ["get_time", "lookup"]
    assert {"type": "tool-output-available", "toolCallId": "call_time", "output": "12:00"} in frames
    sent = fake_provider.requests[0].body["messages"]
    assert {"role": "tool", "tool_call_id": "call_time", "content": "12:00"} in sent


async def test_offline_model_leaves_a_frontend_tool_to_the_client() -> None:
    """The offline model calls the frontend's own get_weather and leaves it unanswered."""
    frontend = parse_request(
        {
            "system": None,
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo?"}]}
            ],
            "tools": {"get_weather": {"parameters": {"type": "object"}}},
        },
        protocol="data-stream",
    )

    async def callback(controller: RunController) -> None:
        await run_provider(
            controller, frontend.messages, provider="offline", tools=frontend.tools, pace=0
        )

    result = await run(callback)
    [call] = result.tool_calls.values()
    assert call.name == "get_weather" and call.result is None and call.closed
    assert [f.finish_reason for f in result.finishes] == ["tool-calls"]


async def test_assistant_ui_data_stream_approval_by_tool_result() -> None:
    """assistant-ui's data stream runtime re-sends the assistant message with the frontend's
    answer as the call's result (``tool-result`` output ``{approved: true}``)."""
    ran: list[str] = []

    @tool(needs_approval=True)
    def get_weather(city: str) -> str:
        """Weather (approved by a person)."""
        ran.append(city)
        return "sunny"

    def body(answer: dict[str, Any]) -> dict[str, Any]:
        call = {"type": "tool-call", "toolCallId": "c1", "toolName": "get_weather"}
        return {
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo?"}]},
                {"role": "assistant", "content": [{**call, "input": {"city": "Oslo"}}]},
                {
                    "role": "tool",
                    "content": [
                        {
                            "type": "tool-result",
                            "toolCallId": "c1",
                            "toolName": "get_weather",
                            "output": {"type": "json", "value": answer},
                        }
                    ],
                },
                {"role": "assistant", "content": []},  # the message being generated
            ],
            "tools": {},
        }

    for answer, expected in [
        ({"approved": True}, "The tool returned: sunny"),
        ({"approved": False}, "The tool returned: The user denied this tool call."),
    ]:
        request = parse_request(body(answer), protocol="data-stream")

        async def callback(controller: RunController, request: Any = request) -> None:
            await run_provider(
                controller,
                request.messages,
                provider="offline",
                tools=[get_weather],
                answers=request.answers,
                pace=0,
            )

        result = await run(callback)
        assert result.error is None
        assert result.text.endswith(expected), result.text
    assert ran == ["Oslo"]


@pytest.mark.parametrize("name", list(PROTOCOLS))
async def test_a_denial_is_streamed_in_every_protocol_own_form(
    fake_provider: FakeProvider, name: str
) -> None:
    """The denied call is answered on the wire: UI message stream 6+ ``tool-output-denied``;
    elsewhere the call's error result saying it was denied (so no frontend keeps waiting)."""
    RAN.clear()
    info = PROTOCOLS[name]
    request = parse_request(ai_continuation(False, "not now"), protocol="ui-message-stream")
    callback = callback_for(fake_provider, request.messages, tools=TOOLS, answers=request.answers)
    body = await encode(info.encoder(), create_run(callback))
    assert "get_time" not in RAN
    frames = [json.loads(line[6:]) for line in body.decode().split("\n") if line[6:7] == "{"]
    message = accumulate([c async for c in info.decoder().decode_stream(_once(body))])
    assert message.errors == []
    denial = "The user denied this tool call. Reason: not now"
    if name == "ui-message-stream":  # the registry's default: ai 5, which has no denied state
        assert {
            "type": "tool-output-error",
            "toolCallId": "call_time",
            "errorText": denial,
        } in frames
    elif name == "ag-ui":
        [result] = [f for f in frames if f["type"] == "TOOL_CALL_RESULT"][:1]
        assert result["toolCallId"] == "call_time" and result["content"] == denial
        assert result["metadata"] == {"isError": True}
    elif name == "assistant-transport":
        assert {"type": "result", "result": denial, "isError": True, "path": [0]} in frames
    elif name == "data-stream":
        assert (
            b'a:{"toolCallId":"call_time","result":"' + denial.encode() + b'","isError":true}\n'
            in body
        )
    if "tool-results" in info.carries:
        calls = {c.tool_call_id: c for c in message.tool_calls}
        assert calls["call_time"].result == denial and calls["call_time"].is_error
    elif "tool-calls" in info.carries:  # OpenAI: no results on the wire; the call is not pending
        assert message.finish_reason != "tool-calls"
    # the model was told, and answered
    assert f"call_time={denial}" in message.text


@pytest.mark.parametrize("version", [6, 7])
async def test_a_denial_of_a_call_in_this_stream_closes_its_part(version: int) -> None:
    """Without ``continued_tool_calls`` the call is streamed again; its part ends denied."""

    async def callback(controller: RunController) -> None:
        call = await controller.add_tool_call("get_time", "call_x")
        call.append_args_text('{"tz": "UTC"}')
        call.close()
        controller.add_tool_output_denied("call_x", "no")

    frames = await ui_frames(callback, version)
    kinds = [f["type"] for f in frames]
    assert kinds.index("tool-input-available") < kinds.index("tool-output-denied")
    assert frames[-1]["type"] == "finish" and frames[-1].get("finishReason") != "tool-calls"
