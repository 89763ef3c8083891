"""`parse_request`: every registered protocol's request body → one typed `ChatRequest`.

Bodies are built exactly as /work/shared/protocols/requests.md describes the real clients'
(field for field); the real `openai` SDK's and `ai` 7's bodies are captured live in
tests/requests/test_requests_live.py, and the real assistant-ui runtimes' (assistant transport
commands, data stream) in tests/interop/test_requests_from_assistant_ui.py.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from assistant_stream_ce.errors import StreamError
from assistant_stream_ce.requests import (
    ChatRequest,
    RequestError,
    ToolAnswer,
    ToolDefinition,
    parse_request,
)
from assistant_stream_ce.serialization import PROTOCOLS


def test_every_registered_protocol_names_a_request_parser() -> None:
    for name, info in PROTOCOLS.items():
        assert info.get_request_parser() is not None, f"{name} has no request parser"


def test_body_may_be_bytes_str_or_dict() -> None:
    body = {"messages": [{"role": "user", "content": "Hi"}], "model": "m"}
    results = [
        parse_request(json.dumps(body).encode(), protocol="openai"),
        parse_request(json.dumps(body), protocol="openai"),
        parse_request(body, protocol="openai"),
    ]
    assert results[0] == results[1] == results[2]
    assert results[0].messages == [{"role": "user", "content": "Hi"}]
    assert results[0].extra == {"model": "m"}


# -- assistant transport ---------------------------------------------------------------------

TRANSPORT_FIRST = {
    "commands": [
        {
            "type": "add-message",
            "message": {
                "id": "msg-u1",
                "role": "user",
                "parts": [
                    {"type": "text", "text": "Where am I?"},
                    {"type": "image", "image": "data:image/png;base64,AA=="},
                ],
            },
            "parentId": None,
            "sourceId": None,
        }
    ],
    "state": {"todos": []},
    "system": "Be brief.",
    "tools": {
        "get_location": {
            "description": "The user's location",
            "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
        }
    },
    "threadId": "__LOCALID_abc123",
    "parentId": None,
    "runConfig": {},
    "callSettings": {"temperature": 0.2},
    "config": {"apiKey": "sk-user-secret"},
}


def test_assistant_transport_add_message() -> None:
    request = parse_request(TRANSPORT_FIRST, protocol="assistant-transport")
    assert request.messages == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Where am I?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
            ],
        }
    ]
    assert request.system == "Be brief."
    assert request.state == {"todos": []}
    assert request.thread_id == "__LOCALID_abc123"
    assert request.tools == [
        ToolDefinition(
            name="get_location",
            description="The user's location",
            parameters={"type": "object", "properties": {}, "additionalProperties": False},
        )
    ]
    assert request.openai_tools()[0]["function"]["name"] == "get_location"
    assert request.extra["runConfig"] == {} and request.extra["callSettings"]["temperature"] == 0.2
    # parentId null (a message at the root of the thread) is not the same as no parentId
    assert request.extra["parentId"] is None
    assert request.answers == []


def test_assistant_transport_add_tool_result_and_custom_commands() -> None:
    body = {
        "commands": [
            {
                "type": "add-tool-result",
                "toolCallId": "call_loc",
                "toolName": "get_location",
                "result": {"city": "Lyon"},
                "isError": False,
            },
            {"type": "set-mood", "mood": "happy"},
        ],
        "state": {"todos": []},
        "tools": {},
        "threadId": "t-1",
        "runConfig": {},
    }
    request = parse_request(body, protocol="assistant-transport")
    assert request.messages == []
    assert request.answers == [
        ToolAnswer(
            tool_call_id="call_loc",
            tool_name="get_location",
            kind="result",
            result={"city": "Lyon"},
        )
    ]
    # assistant transport keeps the history on the server: the answer is not in messages yet
    assert request.unapplied_answers() == request.answers
    assert request.extra["commands"] == [{"type": "set-mood", "mood": "happy"}]
    assert "parentId" not in request.extra  # the runtime sends it with add-message only


def test_assistant_transport_errors_never_echo_the_api_key() -> None:
    body = {**TRANSPORT_FIRST, "commands": [{"type": "add-message", "message": {"role": "bot"}}]}
    with pytest.raises(RequestError) as info:
        parse_request(body, protocol="assistant-transport")
    assert info.value.field == "commands[0].message.role"
    assert "sk-user-secret" not in str(info.value) and "bot" not in str(info.value)


# -- data stream: assistant-ui useDataStreamRuntime and AI SDK 4 useChat ---------------------

ASSISTANT_UI_DATA_STREAM = {
    "system": "You are helpful.",
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool-call",
                    "toolCallId": "call_1",
                    "toolName": "get_weather",
                    "input": {"city": "Paris"},
                },
            ],
        },
        {
            "role": "tool",
            "content": [
                {
                    "type": "tool-result",
                    "toolCallId": "call_1",
                    "toolName": "get_weather",
                    "output": {"type": "json", "value": {"tempC": 18}},
                }
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "It is 18 °C."}]},
        {"role": "user", "content": [{"type": "text", "text": "Thanks"}]},
    ],
    "tools": {"get_weather": {"description": "Weather", "parameters": {"type": "object"}}},
    "unstable_assistantMessageId": "msg-a2",
    "threadId": "thread-9",
    "parentId": "msg-u2",
    "runConfig": {},
    "state": {"n": 1},
}


def test_assistant_ui_data_stream_runtime_body() -> None:
    request = parse_request(ASSISTANT_UI_DATA_STREAM, protocol="data-stream")
    assert request.messages == [
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
        {"role": "user", "content": "Thanks"},
    ]
    assert request.system == "You are helpful."
    assert request.thread_id == "thread-9"
    assert request.message_id == "msg-a2"
    assert request.state == {"n": 1}
    assert [tool.name for tool in request.tools] == ["get_weather"]
    assert request.extra == {"parentId": "msg-u2", "runConfig": {}}


AI_SDK_V4 = {
    "id": "chat-v4",
    "messages": [
        {
            "id": "u1",
            "role": "user",
            "content": "Weather in Paris?",
            "createdAt": "2026-12-02T00:00:00.000Z",
            "parts": [{"type": "text", "text": "Weather in Paris?"}],
        },
        {
            "id": "a1",
            "role": "assistant",
            # the glued text of both steps: never read
            "content": "Let me check.It is 18 °C in Paris.",
            "createdAt": "2026-12-02T00:00:01.000Z",
            "parts": [
                {"type": "step-start"},
                {"type": "reasoning", "reasoning": "weather", "details": []},
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool-invocation",
                    "toolInvocation": {
                        "state": "result",
                        "step": 0,
                        "toolCallId": "call_1",
                        "toolName": "get_weather",
                        "args": {"city": "Paris"},
                        "result": {"tempC": 18},
                    },
                },
                {"type": "step-start"},
                {"type": "text", "text": "It is 18 °C in Paris."},
                {
                    "type": "tool-invocation",
                    "toolInvocation": {
                        "state": "call",
                        "step": 1,
                        "toolCallId": "call_2",
                        "toolName": "get_location",
                        "args": {},
                    },
                },
            ],
        },
        {
            "id": "u2",
            "role": "user",
            "content": "And tomorrow?",
            "parts": [{"type": "text", "text": "And tomorrow?"}],
        },
    ],
}


def test_ai_sdk_v4_use_chat_body_reads_parts_not_glued_content() -> None:
    request = parse_request(AI_SDK_V4, protocol="data-stream")
    assert request.messages == [
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
        {"role": "assistant", "content": "It is 18 °C in Paris."},
        {"role": "user", "content": "And tomorrow?"},
    ]
    assert request.thread_id == "chat-v4"
    assert "Paris.It" not in json.dumps(request.messages)


# -- UI message stream (ai 5/6/7) ------------------------------------------------------------


def _ui_tool(name: str, call_id: str, state: str, **fields: Any) -> dict[str, Any]:
    return {"type": f"tool-{name}", "toolCallId": call_id, "state": state, **fields}


UI_CONTINUATION = {
    "id": "chat-7",
    "messages": [
        {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Book a table"}]},
        {
            "id": "a1",
            "role": "assistant",
            "parts": [
                {"type": "step-start"},
                {"type": "text", "text": "Checking.", "state": "done"},
                _ui_tool(
                    "get_location",
                    "call_loc",
                    "output-available",
                    input={},
                    output={"city": "Lyon"},
                ),
                _ui_tool(
                    "book_table",
                    "call_book",
                    "approval-responded",
                    input={"people": 2},
                    approval={"id": "ap_1", "approved": True},
                ),
                _ui_tool(
                    "cancel_all",
                    "call_cancel",
                    "approval-responded",
                    input={},
                    approval={"id": "ap_2", "approved": False, "reason": "no"},
                ),
            ],
        },
    ],
    "trigger": "submit-message",
    "messageId": "a1",
}


def test_ui_message_stream_continuation_with_result_and_approvals() -> None:
    request = parse_request(UI_CONTINUATION, protocol="ui-message-stream")
    assert request.thread_id == "chat-7"
    assert request.message_id == "a1"
    assert request.extra == {"trigger": "submit-message"}
    assert request.messages == [
        {"role": "user", "content": "Book a table"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_loc",
                    "type": "function",
                    "function": {"name": "get_location", "arguments": "{}"},
                },
                {
                    "id": "call_cancel",
                    "type": "function",
                    "function": {"name": "cancel_all", "arguments": "{}"},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_loc", "content": '{"city":"Lyon"}'},
        {
            "role": "tool",
            "tool_call_id": "call_cancel",
            "content": "The user denied this tool call. Reason: no",
        },
    ]
    assert request.answers == [
        ToolAnswer(
            tool_call_id="call_loc",
            tool_name="get_location",
            kind="result",
            result={"city": "Lyon"},
            arguments={},
        ),
        ToolAnswer(
            tool_call_id="call_book",
            tool_name="book_table",
            kind="approval",
            approved=True,
            approval_id="ap_1",
            arguments={"people": 2},
        ),
        ToolAnswer(
            tool_call_id="call_cancel",
            tool_name="cancel_all",
            kind="approval",
            approved=False,
            reason="no",
            approval_id="ap_2",
            arguments={},
        ),
    ]
    # only the approved call still has to run: it is the one answer messages lack
    assert [a.tool_call_id for a in request.unapplied_answers()] == ["call_book"]


def test_ui_message_stream_system_messages_are_lifted() -> None:
    body = {
        "id": "c",
        "messages": [
            {"id": "s", "role": "system", "parts": [{"type": "text", "text": "Be terse."}]},
            {"id": "u", "role": "user", "parts": [{"type": "text", "text": "Hi"}]},
        ],
        "trigger": "submit-message",
    }
    request = parse_request(body, protocol="ui-message-stream")
    assert request.system == "Be terse."
    assert request.messages == [{"role": "user", "content": "Hi"}]


# -- OpenAI and RAIS -------------------------------------------------------------------------


def test_openai_request_with_tool_round() -> None:
    body = {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"tempC":18}'},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
        ],
    }
    request = parse_request(body, protocol="openai")
    assert request.system == "Be brief."
    assert request.messages == body["messages"][1:]
    assert request.tools[0].name == "get_weather"
    assert request.answers == [
        ToolAnswer(
            tool_call_id="call_1",
            tool_name="get_weather",
            kind="result",
            result={"tempC": 18},
            arguments={"city": "Paris"},  # from the assistant message's call
        )
    ]
    assert request.unapplied_answers() == []
    assert request.extra == {"model": "gpt-4o-mini", "stream": True}


def test_rais_request() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "18 °C."},
            {"role": "user", "content": "Thanks"},
        ],
        "temperature": 0.5,
    }
    request = parse_request(body, protocol="rais")
    assert request.messages == body["messages"]
    assert request.extra == {"temperature": 0.5}


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "body", "field"),
    [
        ("rais", {"messages": []}, "messages"),
        ("rais", {"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ("rais", {"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ("openai", {"messages": [{"role": "user"}]}, "messages[0].content"),
        ("openai", {"messages": [{"role": "user", "content": "x"}], "n": 2}, "n"),
        (
            "openai",
            {"messages": [{"role": "tool", "content": "x"}]},
            "messages[0].tool_call_id",
        ),
        ("openai", {"messages": "hi"}, "messages"),
        ("openai", {"messages": [{"role": "user", "content": "x"}], "tools": [{}]}, "tools[0]"),
        ("data-stream", {"messages": [{"role": 7}]}, "messages[0].role"),
        (
            "data-stream",
            {"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]},
            "messages[0].content[0].text",
        ),
        ("assistant-transport", {"commands": {}}, "commands"),
        ("assistant-transport", {"commands": [{"type": 3}]}, "commands[0].type"),
        (
            "assistant-transport",
            {"commands": [{"type": "add-tool-result", "result": 1}]},
            "commands[0].toolCallId",
        ),
        (
            "ui-message-stream",
            {"messages": [{"id": "m", "role": "user", "parts": [{"type": "text"}]}]},
            "messages[0].parts[0].text",
        ),
        ("ui-message-stream", {"messages": [], "trigger": "resume"}, "trigger"),
    ],
)
def test_malformed_bodies_name_protocol_and_field(
    protocol: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(RequestError) as info:
        parse_request(body, protocol=protocol)
    error = info.value
    assert isinstance(error, StreamError)
    assert (error.protocol, error.status_code) == (protocol, 422)
    assert error.field.startswith(field), error.field
    assert error.to_dict()["error"]["field"] == error.field


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "is empty"),
        (b"{not json", "is not valid JSON"),
        (b"\xff\xfe{}", "is not UTF-8"),
        (b"[1, 2]", "must be a JSON object, not an array"),
        (b'"text"', "must be a JSON object, not a string"),
        (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON"),
    ],
)
def test_bodies_that_are_not_objects(body: bytes, problem: str) -> None:
    with pytest.raises(RequestError) as info:
        parse_request(body, protocol="rais")
    assert (info.value.field, info.value.problem) == ("body", problem)


def test_a_body_over_the_limit_is_a_413_before_parsing() -> None:
    body = json.dumps({"messages": [{"role": "user", "content": "x" * 3_000_000}]}).encode()
    with pytest.raises(RequestError) as info:
        parse_request(body, protocol="rais", max_bytes=1_000_000)
    assert info.value.status_code == 413
    # megabytes of text under the limit are fine
    assert len(parse_request(body, protocol="rais").messages[0]["content"]) == 3_000_000


def test_ten_thousand_messages_parse_in_bounded_time() -> None:
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(10_000)
    ]
    for protocol, body in [
        ("openai", {"messages": messages}),
        ("rais", {"messages": messages}),
        (
            "ui-message-stream",
            {
                "messages": [
                    {
                        "id": str(i),
                        "role": m["role"],
                        "parts": [{"type": "text", "text": m["content"]}],
                    }
                    for i, m in enumerate(messages)
                ]
            },
        ),
    ]:
        started = time.perf_counter()
        request = parse_request(json.dumps(body).encode(), protocol=protocol)
        assert len(request.messages) == 10_000
        assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize("protocol", ["openai", "data-stream"])
def test_errors_do_not_echo_what_was_sent(protocol: str) -> None:
    role = "x" * 100_000 + "sk-secret-role"
    with pytest.raises(RequestError) as info:
        parse_request({"messages": [{"role": role, "content": "hi"}]}, protocol=protocol)
    assert info.value.field == "messages[0].role"
    assert "sk-secret" not in str(info.value) and len(str(info.value)) < 400


def test_unknown_protocol_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown protocol"):
        parse_request({}, protocol="carrier-pigeon")


def test_chat_request_has_a_json_schema() -> None:
    schema = ChatRequest.model_json_schema()
    assert {"messages", "tools", "answers", "state", "system", "thread_id"} <= set(
        schema["properties"]
    )


def test_request_error_as_a_json_response() -> None:
    with pytest.raises(RequestError) as info:
        parse_request(b'{"messages": 1}', protocol="openai")
    response = info.value.response()
    assert response.status_code == 422
    assert json.loads(response.body) == {
        "error": {
            "type": "invalid_request",
            "protocol": "openai",
            "field": "messages",
            "message": info.value.problem,
        }
    }
