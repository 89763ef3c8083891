"""The message accumulator: folding rules, partial arguments, state, status."""

from __future__ import annotations

from typing import Any

import pytest

from assistant_stream_ce import (
    ErrorChunk,
    ReasoningDeltaChunk,
    ReasoningPartStartChunk,
    SourceChunk,
    StepFinishChunk,
    StepStartChunk,
    TextDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
    UpdateStateChunk,
    create_run,
)
from assistant_stream_ce.accumulator import (
    MessageAccumulator,
    accumulate,
    accumulate_stream,
    parse_partial_json,
)


def test_adjacent_deltas_merge_and_other_parts_split_them() -> None:
    message = accumulate(
        [
            TextDeltaChunk("a"),
            TextDeltaChunk("b"),
            ReasoningDeltaChunk("r"),
            ReasoningPartStartChunk("summary"),
            ReasoningDeltaChunk("s"),
            TextDeltaChunk("c", parent_id="p"),
            SourceChunk("s1", "u"),
            TextDeltaChunk("d", parent_id="p"),
            TextDeltaChunk(""),
        ]
    )
    assert [(p.type, getattr(p, "text", None)) for p in message.parts] == [
        ("text", "ab"),
        ("reasoning", "r"),
        ("reasoning", "s"),
        ("text", "c"),
        ("source", None),
        ("text", "d"),
    ]
    assert message.to_dict()["parts"][2]["summary"] == "summary"


def test_partial_arguments_while_streaming_then_closed_arguments() -> None:
    accumulator = MessageAccumulator()
    accumulator.add(ToolCallBeginChunk("c1", "search"))
    accumulator.add(ToolCallDeltaChunk("c1", '{"q": "par'))
    call = accumulator.message.tool_calls[0]
    assert (call.args, call.args_complete) == ({"q": "par"}, False)
    accumulator.add(ToolCallDeltaChunk("c1", 'is", "n": 2}'))
    accumulator.add(ToolCallBeginChunk("c2", "now"))
    accumulator.add(StepFinishChunk("tool-calls", 1, 2))
    accumulator.add(ToolCallDeltaChunk("c1", " "))  # a step finish leaves the text open
    accumulator.add(ErrorChunk("bad"))
    accumulator.add(ToolCallDeltaChunk("c1", "ignored"))  # an error closes it
    message = accumulator.finish()
    first, second = message.tool_calls
    assert (first.args, first.args_text, first.args_complete) == (
        {"q": "paris", "n": 2},
        '{"q": "paris", "n": 2} ',
        True,
    )
    assert (second.args_text, second.args) == ("{}", {})
    assert message.status == "incomplete" and message.finish_reason == "error"
    waiting = accumulate([ToolCallBeginChunk("c1", "t")])
    assert waiting.status == "requires-action" and waiting.finish_reason == "tool-calls"


def test_results_errors_steps_and_usage() -> None:
    message = accumulate(
        [
            StepStartChunk("m1"),
            ToolCallBeginChunk("c1", "t", parent_id="g"),
            ToolCallArgsTextFinishChunk("c1", '{"a":1}'),
            ToolResultChunk("c1", None, artifact={"x": 1}, is_error=True),
            StepFinishChunk("tool-calls", 3, 4),
            StepFinishChunk("length", 5, 6, is_continued=True),
        ]
    )
    data = message.to_dict()
    assert data["parts"][0] == {
        "type": "tool-call",
        "tool_call_id": "c1",
        "tool_name": "t",
        "args_text": '{"a":1}',
        "args": {"a": 1},
        "args_complete": True,
        "result": None,
        "has_result": True,
        "artifact": {"x": 1},
        "is_error": True,
        "parent_id": "g",
    }
    assert [s["message_id"] for s in data["steps"]] == ["m1", None]
    assert data["usage"] == {"input_tokens": 8, "output_tokens": 10}
    assert (data["status"], data["finish_reason"]) == ("incomplete", "length")
    errored = accumulate([TextDeltaChunk("x"), ErrorChunk("bad")])
    assert (errored.status, errored.finish_reason, errored.errors) == (
        "incomplete",
        "error",
        ["bad"],
    )
    assert MessageAccumulator().message.status == "running"


def test_state_operations_apply_to_a_copy_of_the_initial_state() -> None:
    initial: dict[str, Any] = {"log": "a", "items": [1]}
    message = accumulate(
        [
            UpdateStateChunk(
                [
                    {"type": "append-text", "path": ["log"], "value": "b"},
                    {"type": "set", "path": ["items", "1"], "value": 2},
                    {"type": "set", "path": ["deep", "x"], "value": {"y": 1}},
                    {"type": "append-text", "path": ["new"], "value": "n"},
                    {"type": "set", "path": ["items", "9"], "value": 0},  # skipped: out of range
                    {"type": "append-text", "path": ["items"], "value": "x"},  # skipped: a list
                ]
            )
        ],
        initial,
    )
    assert message.state == {"log": "ab", "items": [1, 2], "deep": {"x": {"y": 1}}, "new": "n"}
    assert initial == {"log": "a", "items": [1]}
    root = accumulate([UpdateStateChunk([{"type": "set", "path": [], "value": [1]}])], {"a": 1})
    assert root.state == [1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, {"b": "x', {"a": [1, {"b": "x"}]}),
        ('{"a": 1, "b', {"a": 1}),
        ('{"a": 1, "b":', {"a": 1}),
        ('{"a": tr', {}),
        ('{"a": 12', {"a": 12}),
        ("[1, 2, ", [1, 2]),
        ('{"s": "x\\', {"s": "x"}),
        ('{"s": "x\\u00', {"s": "x"}),
        ('{"s": "\\\\u12', {"s": "\\u12"}),
        ('"hel', "hel"),
        ("", None),
        ("nonsense", None),
        ('{"a": {"b": [true, null', {"a": {"b": [True, None]}}),
    ],
)
def test_partial_json(text: str, expected: Any) -> None:
    assert parse_partial_json(text) == expected


async def test_accumulate_stream_over_a_run() -> None:
    async def run(controller: Any) -> None:
        controller.append_text("hi")
        controller.state["k"] = "v"

    message = await accumulate_stream(create_run(run, state={}), initial_state={})
    assert (message.text, message.state, message.status) == ("hi", {"k": "v"}, "complete")
