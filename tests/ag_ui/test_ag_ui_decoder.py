"""AGUIDecoder on streams other producers write: chunk forms, THINKING_*, JSON Patch, lifecycle."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from assistant_stream_ce.accumulator import accumulate
from assistant_stream_ce.errors import DecodeError
from assistant_stream_ce.serialization.ag_ui import AGUIDecoder

STARTED = {"type": "RUN_STARTED", "threadId": "t", "runId": "r"}
FINISHED = {"type": "RUN_FINISHED", "threadId": "t", "runId": "r"}


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)


def message(body: bytes, strict: bool = True, state: Any = None) -> dict[str, Any]:
    return accumulate(AGUIDecoder(strict=strict).decode(body), state).to_dict()


def test_chunk_events_expand_as_the_client_expands_them() -> None:
    body = sse(
        STARTED,
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m1", "delta": "Hel"},
        {"type": "TEXT_MESSAGE_CHUNK", "delta": "lo"},
        {"type": "TOOL_CALL_CHUNK", "toolCallId": "c1", "toolCallName": "search", "delta": "{"},
        {"type": "TOOL_CALL_CHUNK", "delta": "}"},
        {"type": "REASONING_MESSAGE_CHUNK", "messageId": "r1", "delta": "hmm"},
        {"type": "CUSTOM", "name": "data", "value": 1},  # closes the open chunk stream
        {"type": "TEXT_MESSAGE_CHUNK", "messageId": "m2", "delta": "Bye"},
        FINISHED,  # closes m2
    )
    decoded = message(body)
    assert [(p["type"], p.get("text", p.get("args_text"))) for p in decoded["parts"]] == [
        ("text", "Hello"),
        ("tool-call", "{}"),
        ("reasoning", "hmm"),
        ("text", "Bye"),
    ]
    assert decoded["parts"][1]["args_complete"] and decoded["data"] == [1]


def test_a_first_chunk_without_an_id_is_malformed() -> None:
    with pytest.raises(DecodeError, match="must carry 'messageId'"):
        AGUIDecoder().decode(sse(STARTED, {"type": "TEXT_MESSAGE_CHUNK", "delta": "x"}, FINISHED))


def test_legacy_thinking_events_become_reasoning() -> None:
    body = sse(
        STARTED,
        {"type": "THINKING_START", "title": "Plan"},
        {"type": "THINKING_TEXT_MESSAGE_START"},
        {"type": "THINKING_TEXT_MESSAGE_CONTENT", "delta": "step one"},
        {"type": "THINKING_TEXT_MESSAGE_END"},
        {"type": "THINKING_END"},
        FINISHED,
    )
    (part,) = message(body)["parts"]
    assert (part["type"], part["text"], part["summary"]) == ("reasoning", "step one", "Plan")


def test_patches_become_set_operations_against_a_mirror() -> None:
    body = sse(
        STARTED,
        {"type": "STATE_SNAPSHOT", "snapshot": {"items": ["a", "c"], "obj": {"k": 1}, "n": 0}},
        {
            "type": "STATE_DELTA",
            "delta": [
                {"op": "add", "path": "/items/1", "value": "b"},  # an insert
                {"op": "add", "path": "/items/-", "value": "d"},  # an append
                {"op": "replace", "path": "/obj/k", "value": 2},
                {"op": "remove", "path": "/n"},
                {"op": "copy", "from": "/obj", "path": "/copy"},
                {"op": "move", "from": "/copy/k", "path": "/moved"},
                {"op": "test", "path": "/moved", "value": 2},
                {"op": "add", "path": "/a~1b~0c", "value": True},
            ],
        },
        FINISHED,
    )
    decoded = message(body)
    assert decoded["state"] == {
        "items": ["a", "b", "c", "d"],
        "obj": {"k": 2},
        "copy": {},
        "moved": 2,
        "a/b~c": True,
    }


def test_a_patch_that_does_not_apply_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = sse(
        STARTED,
        {"type": "STATE_SNAPSHOT", "snapshot": {"a": 1}},
        {"type": "STATE_DELTA", "delta": [{"op": "remove", "path": "/missing"}]},
        {"type": "STATE_DELTA", "delta": [{"op": "add", "path": "/b", "value": 2}]},
        FINISHED,
    )
    with caplog.at_level(logging.WARNING):
        assert message(body)["state"] == {"a": 1, "b": 2}
    assert "does not apply" in caplog.text


@pytest.mark.parametrize(
    ("events", "match"),
    [
        ([{"type": "TEXT_MESSAGE_START", "messageId": "m"}], "before RUN_STARTED"),
        ([STARTED, {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "x"}], "not open"),
        (
            [STARTED, {"type": "TEXT_MESSAGE_START", "messageId": "m"}, FINISHED],
            "still open",
        ),
        ([STARTED, {"type": "STEP_FINISHED", "stepName": "s"}], "was not started"),
        ([STARTED, {"type": "TEXT_MESSAGE_START"}], "'messageId' must be a string"),
        ([STARTED, {"type": "STATE_DELTA", "delta": [{"op": "add", "path": "x"}]}], "Pointer"),
        ([STARTED, {"type": "CUSTOM", "name": "source", "value": {"url": 1}}], "'id'"),
        ([STARTED], "without RUN_FINISHED or RUN_ERROR"),
    ],
)
def test_strict_mode_names_the_problem(events: list[dict[str, Any]], match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        AGUIDecoder().decode(sse(*events))


def test_lenient_mode_reads_on() -> None:
    body = sse(
        {"type": "TEXT_MESSAGE_START", "messageId": "m"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "Hi"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": "other", "delta": "lost"},
        {"type": "MESSAGES_SNAPSHOT", "messages": []},
        {"type": "SOMETHING_NEW"},
    )
    decoded = message(body, strict=False)
    assert [p["text"] for p in decoded["parts"]] == ["Hi"]


def test_foreign_usage_on_run_finished_becomes_a_step_finish() -> None:
    body = sse(
        STARTED,
        {"type": "TEXT_MESSAGE_START", "messageId": "m", "role": "assistant"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "Hi"},
        {"type": "TEXT_MESSAGE_END", "messageId": "m"},
        {**FINISHED, "usage": [{"inputTokens": 3, "outputTokens": 4}]},
    )
    decoded = message(body)
    assert decoded["usage"] == {"input_tokens": 3, "output_tokens": 4}
    assert decoded["finish_reason"] == "stop"


def test_reading_stops_at_the_terminal_event() -> None:
    body = sse(
        STARTED,
        {"type": "RUN_ERROR", "message": "boom", "code": "E1"},
        {"type": "TEXT_MESSAGE_START", "messageId": "m"},
    )
    decoded = message(body)
    assert decoded["errors"] == ["boom"] and decoded["parts"] == []


def test_tool_results_restore_json_errors_and_artifacts() -> None:
    body = sse(
        STARTED,
        {"type": "TOOL_CALL_START", "toolCallId": "c", "toolCallName": "f"},
        {"type": "TOOL_CALL_ARGS", "toolCallId": "c", "delta": "{}"},
        {
            "type": "TOOL_CALL_RESULT",
            "messageId": "x",
            "toolCallId": "c",
            "content": '{"a":1}',
            "metadata": {"contentType": "application/json", "isError": True, "artifact": [1]},
        },
        {"type": "TOOL_CALL_START", "toolCallId": "d", "toolCallName": "g"},
        {"type": "TOOL_CALL_END", "toolCallId": "d"},
        {"type": "TOOL_CALL_RESULT", "messageId": "y", "toolCallId": "d", "content": '{"a":1}'},
        FINISHED,
    )
    first, second = message(body)["parts"]
    assert (first["result"], first["is_error"], first["artifact"]) == ({"a": 1}, True, [1])
    assert second["result"] == '{"a":1}'  # a plain string result stays a string
