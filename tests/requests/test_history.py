"""History: a finished message → the conversation → each frontend's own shape → `parse_request`
→ the same conversation (hypothesis), and a store that keeps it by thread."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant_stream_ce import RunController, accumulate
from assistant_stream_ce.history import (
    HistoryStore,
    message_to_history,
    to_ag_ui_messages,
    to_data_stream_messages,
    to_rais_messages,
    to_ui_messages,
)
from assistant_stream_ce.providers import run_provider
from assistant_stream_ce.requests import parse_request
from fakes.run_result import run

TEXT = st.text(min_size=1, max_size=40)
# Numbers as a JavaScript client can send them (bodies come from browsers).
INT = st.integers(-(2**53), 2**53)
RESULT = st.one_of(
    TEXT,
    st.dictionaries(st.text(max_size=5), INT | st.booleans() | TEXT, max_size=3).map(
        lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    ),
)
ARGS = st.dictionaries(st.text(min_size=1, max_size=5), INT | TEXT | st.none(), max_size=3).map(
    lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
)
NAME = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)


@st.composite
def conversations(draw: Any, tools: bool = True, errors: bool = False) -> list[dict[str, Any]]:
    """Conversations in the normalized shape every frontend can carry: user text, assistant
    turns with text and/or answered calls (compact JSON arguments) and their results."""
    history: list[dict[str, Any]] = []
    next_id = 0
    for _ in range(draw(st.integers(1, 4))):
        history.append({"role": "user", "content": draw(TEXT)})
        for _ in range(draw(st.integers(0, 3))):
            text = draw(st.none() | TEXT)
            count = draw(st.integers(0, 2)) if tools else 0
            if text is None and count == 0:
                text = draw(TEXT)
            calls = []
            results = []
            for _ in range(count):
                call_id = f"call_{next_id}"
                next_id += 1
                function = {"name": draw(NAME), "arguments": draw(ARGS)}
                calls.append({"id": call_id, "type": "function", "function": function})
                result: dict[str, Any] = {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "content": draw(RESULT),
                }
                if errors and draw(st.booleans()):
                    result["is_error"] = True
                results.append(result)
            turn: dict[str, Any] = {"role": "assistant", "content": text}
            if calls:
                turn["tool_calls"] = calls
            history += [turn, *results]
    return history


def body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


@settings(max_examples=60, deadline=None)
@given(conversations())
def test_ui_message_history_round_trips(history: list[dict[str, Any]]) -> None:
    ui = to_ui_messages(history)
    request = parse_request(body({"id": "c", "messages": ui}), protocol="ui-message-stream")
    assert request.messages == history


@settings(max_examples=60, deadline=None)
@given(conversations(errors=True))
def test_data_stream_history_round_trips(history: list[dict[str, Any]]) -> None:
    request = parse_request(
        body({"messages": to_data_stream_messages(history)}), protocol="data-stream"
    )
    assert request.messages == history


@settings(max_examples=60, deadline=None)
@given(conversations(errors=True))
def test_openai_history_round_trips(history: list[dict[str, Any]]) -> None:
    request = parse_request(body({"messages": history}), protocol="openai")
    assert request.messages == history


@settings(max_examples=60, deadline=None)
@given(conversations())
def test_ag_ui_history_round_trips(history: list[dict[str, Any]]) -> None:
    body_value = {
        "threadId": "t",
        "runId": "r",
        "messages": to_ag_ui_messages(history),
        "tools": [],
        "context": [],
    }
    request = parse_request(body(body_value), protocol="ag-ui")
    assert request.messages == history


@settings(max_examples=60, deadline=None)
@given(conversations(tools=False))
def test_rais_history_round_trips(history: list[dict[str, Any]]) -> None:
    request = parse_request(body({"messages": to_rais_messages(history)}), protocol="rais")
    assert request.messages == history


async def test_a_finished_message_is_saved_and_reloaded_in_each_shape() -> None:
    question = {"role": "user", "content": "What is the weather in Rome?"}

    async def get_weather(city: str) -> dict[str, Any]:
        """Weather."""
        return {"tempC": 30}

    async def callback(controller: RunController) -> None:
        await run_provider(controller, [question], provider="offline", tools=[get_weather], pace=0)

    result = await run(callback)
    message = accumulate(result.chunks)
    saved = message_to_history(message)
    [call] = message.tool_calls
    assert saved == [
        {
            "role": "assistant",
            "content": "Let me check the weather in Rome. ",
            "tool_calls": [
                {
                    "id": call.tool_call_id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.tool_call_id, "content": '{"tempC":30}'},
        {"role": "assistant", "content": 'The tool returned: {"tempC": 30}'},
    ]
    store = HistoryStore()
    store.append("t-1", [question])
    store.append("t-1", saved)
    assert store.load("unknown") == []
    loaded = store.load("t-1")
    loaded[0]["content"] = "changed"  # a copy: the store is not affected
    assert store.load("t-1")[0] == question
    ui = to_ui_messages(store.load("t-1"))
    assert [m["role"] for m in ui] == ["user", "assistant"]
    assert [p["type"] for p in ui[1]["parts"]] == [
        "step-start",
        "text",
        "tool-get_weather",
        "step-start",
        "text",
    ]
    assert ui[1]["parts"][2]["output"] == {"tempC": 30}
    # the next request, in the frontend's own shape, carries the same conversation
    again = parse_request(body({"id": "t-1", "messages": ui}), protocol="ui-message-stream")
    assert again.messages[0] == question
    assert again.messages[1]["tool_calls"][0]["function"]["arguments"] == '{"city":"Rome"}'
    assert again.messages[2:] == saved[1:]
