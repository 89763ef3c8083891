"""`RunAgentInput`: bodies the real ``HttpAgent`` sent, their provider messages, and 422s."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import validate_messages
from assistant_stream_ce.providers._messages import to_anthropic_messages
from assistant_stream_ce.serialization.ag_ui import AGUIResponse
from assistant_stream_ce.serialization.ag_ui_input import RunAgentInput

# Captured from @ag-ui/client 1.0.0 HttpAgent.runAgent (tests/interop/node_agui/run_agent.mjs)
# with a history of every role, content parts, two tool calls, a tool error and state.
BODY = json.loads((pathlib.Path(__file__).parent / "http_agent_body.json").read_text())

EXPECTED_MESSAGES = [
    {"role": "system", "content": "User locale:\nfr-FR"},
    {"role": "system", "content": "You are terse."},
    {"role": "developer", "content": "Prefer metric units."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture, and the weather in Paris?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        ],
    },
    {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {
                "id": "call_0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            },
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "describe_image", "arguments": "{}"},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_0", "content": '{"tempC":18}'},
    {"role": "tool", "tool_call_id": "call_1", "content": "image too large"},
    {"role": "assistant", "content": "It is 18 C; I could not read the image."},
    {"role": "user", "content": "Thanks! And Rome?"},
]


def test_the_http_agent_body_parses_into_provider_messages(
    caplog: pytest.LogCaptureFixture,
) -> None:
    parsed = RunAgentInput.model_validate(BODY)
    assert parsed.thread_id == "thread-7" and parsed.protocol_version == "1.0"
    assert parsed.state == {"city": "Paris", "visits": 2}
    assert parsed.forwarded_props == {"theme": "dark"}
    assert [message.role for message in parsed.messages] == [
        "system",
        "developer",
        "user",
        "reasoning",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "user",
    ]
    messages = parsed.provider_messages()
    assert messages == EXPECTED_MESSAGES
    assert "a document part was skipped" in caplog.text
    # what the providers accept
    assert validate_messages(messages) == messages
    system, turns = to_anthropic_messages(messages)
    assert system is not None and "fr-FR" in system
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user", "assistant", "user"]
    assert parsed.provider_messages(include_context=False) == EXPECTED_MESSAGES[1:]
    assert parsed.provider_tools() == [
        {
            "type": "function",
            "function": {
                "name": "confirm",
                "description": "Ask the user to confirm",
                "parameters": {
                    "type": "object",
                    "properties": {"question": {"type": "string"}},
                    "required": ["question"],
                },
            },
        }
    ]


def test_unknown_keys_are_kept_and_dump_back_in_camel_case() -> None:
    body = {**BODY, "futureField": 1}
    parsed = RunAgentInput.model_validate(body)
    assert parsed.model_extra == {"futureField": 1}
    dumped = parsed.model_dump(by_alias=True, exclude_none=True)
    assert dumped["threadId"] == "thread-7"
    assert dumped["messages"][5]["toolCallId"] == "call_0"


def test_an_assistant_message_with_neither_content_nor_calls_gets_empty_content() -> None:
    parsed = RunAgentInput.model_validate(
        {
            "threadId": "t",
            "runId": "r",
            "messages": [{"id": "a", "role": "assistant"}],
        }
    )
    assert parsed.provider_messages() == [{"role": "assistant", "content": ""}]
    assert parsed.tools == [] and parsed.context == [] and parsed.state is None


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/agent")
    async def agent(input: RunAgentInput) -> AGUIResponse:
        async def run(controller: RunController) -> None:
            controller.append_text(f"{len(input.messages)} messages")

        return AGUIResponse(create_run(run, state=input.state), input=input)

    return app


@pytest.mark.http
@pytest.mark.parametrize(
    ("change", "location"),
    [
        (lambda b: b.pop("threadId"), ["body", "threadId"]),
        (
            lambda b: b["messages"][5].pop("toolCallId"),
            ["body", "messages", 5, "tool", "toolCallId"],
        ),
        (
            lambda b: b["messages"][4]["toolCalls"][0]["function"].update(arguments={"a": 1}),
            ["body", "messages", 4, "assistant", "toolCalls", 0, "function", "arguments"],
        ),
        (lambda b: b["messages"][0].update(role="robot"), ["body", "messages", 0]),
        (lambda b: b.update(tools=[{"name": "x"}]), ["body", "tools", 0, "description"]),
    ],
)
def test_a_malformed_body_is_a_422_naming_the_field(
    live_server: Any, change: Any, location: list[Any]
) -> None:
    server: LiveServer = live_server(_app())
    body = json.loads(json.dumps(BODY))
    change(body)
    response = httpx.post(server.url("/agent"), json=body, timeout=10)
    assert response.status_code == 422
    assert location in [error["loc"] for error in response.json()["detail"]]


@pytest.mark.http
def test_the_route_streams_with_the_requests_ids_and_state(live_server: Any) -> None:
    server: LiveServer = live_server(_app())
    response = httpx.post(server.url("/agent"), json=BODY, timeout=10)
    assert response.status_code == 200
    events = [json.loads(line[6:]) for line in response.text.split("\n\n") if line]
    assert events[0] == {
        "type": "RUN_STARTED",
        "threadId": "thread-7",
        "runId": BODY["runId"],
        "protocolVersion": "1.0",
    }
    assert events[1] == {"type": "STATE_SNAPSHOT", "snapshot": {"city": "Paris", "visits": 2}}
    assert events[3]["delta"] == "9 messages"
    assert events[-1]["type"] == "RUN_FINISHED" and events[-1]["runId"] == BODY["runId"]
