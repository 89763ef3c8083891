"""AGUIEncoder: the events it writes for each chunk, its terminal rules and state patches."""

from __future__ import annotations

import json
import math
from typing import Any

import hypothesis
from hypothesis import strategies as st

from assistant_stream_ce import (
    DataChunk,
    ErrorChunk,
    ReasoningDeltaChunk,
    ReasoningPartStartChunk,
    StepFinishChunk,
    StepStartChunk,
    TextDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
    UpdateStateChunk,
)
from assistant_stream_ce.serialization.ag_ui import AGUIEncoder


def events(encoder: AGUIEncoder, chunks: list[Any], finish: bool = True) -> list[dict[str, Any]]:
    frames = encoder.encode_frames(chunks)
    if finish:
        frames += encoder.finish_frames()
    for frame in frames:
        assert frame.startswith(b"data: ") and frame.endswith(b"\n\n")
        assert frame.count(b"\n") == 2  # one data line, LF only
    return [json.loads(frame[6:]) for frame in frames]


def without_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in event.items() if k not in ("messageId", "parentMessageId")}
        for event in items
    ]


def test_text_reasoning_and_a_tool_call_in_order() -> None:
    encoder = AGUIEncoder(thread_id="t1", run_id="r1")
    out = events(
        encoder,
        [
            ReasoningPartStartChunk("Plan", parent_id="g"),
            ReasoningDeltaChunk("think", parent_id="g"),
            TextDeltaChunk(""),  # never an empty delta
            TextDeltaChunk("Hi"),
            ToolCallBeginChunk("c1", "search"),
            ToolCallArgsTextFinishChunk("c1"),
            ToolResultChunk("c1", None, is_error=True),
        ],
    )
    assert without_ids(out) == [
        {"type": "RUN_STARTED", "threadId": "t1", "runId": "r1", "protocolVersion": "1.0"},
        {"type": "REASONING_START"},
        {
            "type": "REASONING_MESSAGE_START",
            "role": "reasoning",
            "metadata": {"parentId": "g", "summary": "Plan"},
        },
        {"type": "REASONING_MESSAGE_CONTENT", "delta": "think"},
        {"type": "REASONING_MESSAGE_END"},
        {"type": "REASONING_END"},
        {"type": "TEXT_MESSAGE_START", "role": "assistant"},
        {"type": "TEXT_MESSAGE_CONTENT", "delta": "Hi"},
        {"type": "TEXT_MESSAGE_END"},
        {"type": "TOOL_CALL_START", "toolCallId": "c1", "toolCallName": "search"},
        {"type": "TOOL_CALL_ARGS", "toolCallId": "c1", "delta": "{}"},  # at least one ARGS
        {"type": "TOOL_CALL_END", "toolCallId": "c1"},
        {
            "type": "TOOL_CALL_RESULT",
            "toolCallId": "c1",
            "content": "null",
            "role": "tool",
            "metadata": {"contentType": "application/json", "isError": True},
        },
        {
            "type": "RUN_FINISHED",
            "threadId": "t1",
            "runId": "r1",
            "outcome": {"type": "success"},
        },
    ]
    # the reasoning span and its message share one id; the call hangs on the text message
    assert out[1]["messageId"] == out[2]["messageId"] == out[5]["messageId"]
    assert out[9]["parentMessageId"] == out[6]["messageId"]
    ids = [e["messageId"] for e in out if e["type"] in ("TEXT_MESSAGE_START", "TOOL_CALL_RESULT")]
    assert len(set(ids)) == len(ids)


def test_ids_are_unique_across_encoders_and_generated_when_absent() -> None:
    first, second = AGUIEncoder(), AGUIEncoder()
    assert first.thread_id != second.thread_id and first.run_id != second.run_id
    a = events(first, [TextDeltaChunk("a")])[1]["messageId"]
    b = events(second, [TextDeltaChunk("a")])[1]["messageId"]
    assert a != b


def test_nothing_follows_run_error_and_parts_are_closed_first() -> None:
    encoder = AGUIEncoder(thread_id="t", run_id="r")
    out = events(
        encoder,
        [
            StepStartChunk("s1"),
            TextDeltaChunk("Hi"),
            ToolCallBeginChunk("c1", "search"),
            ToolCallDeltaChunk("c1", '{"q":'),
            StepFinishChunk("tool-calls", 3, 4),
            ErrorChunk("boom"),
            TextDeltaChunk("after"),
        ],
        finish=False,
    )
    assert encoder.closed
    assert [e["type"] for e in out[-3:]] == ["STEP_FINISHED", "TOOL_CALL_END", "RUN_ERROR"]
    assert out[-1] == {
        "type": "RUN_ERROR",
        "message": "boom",
        "usage": [{"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}],
    }
    assert "after" not in json.dumps(out)
    assert encoder.encode_frames([TextDeltaChunk("more")]) == []
    assert encoder.finish_frames() == []
    assert encoder.finish_frames(failed=True) == []


def test_a_failed_run_without_an_error_frame_still_ends_with_run_error() -> None:
    encoder = AGUIEncoder()
    out = events(encoder, [TextDeltaChunk("Hi")], finish=False)
    out += [json.loads(f[6:]) for f in encoder.finish_frames(failed=True)]
    assert [e["type"] for e in out][-2:] == ["TEXT_MESSAGE_END", "RUN_ERROR"]
    assert sum(e["type"] in ("RUN_FINISHED", "RUN_ERROR") for e in out) == 1


def test_a_value_with_no_json_form_ends_the_run_with_run_error() -> None:
    encoder = AGUIEncoder()
    out = events(encoder, [DataChunk(math.nan), TextDeltaChunk("never")], finish=False)
    assert out[-1]["type"] == "RUN_ERROR" and "float" in out[-1]["message"]
    assert encoder.closed and "never" not in json.dumps(out)


def test_steps_pair_by_name_and_carry_finish_reason_and_usage() -> None:
    out = events(
        AGUIEncoder(),
        [
            StepFinishChunk("stop", 1, 2),  # a finish without a start
            StepStartChunk("a"),
            StepStartChunk("a"),  # the same name again: the first one closes
            StepFinishChunk("length", 5, 6, is_continued=True),
            StepStartChunk("b"),  # left open: closed before RUN_FINISHED
        ],
    )
    steps = [(e["type"], e["stepName"], e.get("metadata")) for e in out if "stepName" in e]
    implicit = steps[0][1]
    assert steps == [
        ("STEP_STARTED", implicit, {"implicit": True}),
        (
            "STEP_FINISHED",
            implicit,
            {"finishReason": "stop", "usage": {"inputTokens": 1, "outputTokens": 2}},
        ),
        ("STEP_STARTED", "a", None),
        ("STEP_FINISHED", "a", None),
        ("STEP_STARTED", "a", None),
        (
            "STEP_FINISHED",
            "a",
            {
                "finishReason": "length",
                "usage": {"inputTokens": 5, "outputTokens": 6},
                "isContinued": True,
            },
        ),
        ("STEP_STARTED", "b", None),
        ("STEP_FINISHED", "b", None),
    ]
    assert out[-1]["usage"] == [{"inputTokens": 6, "outputTokens": 8, "totalTokens": 14}]


def test_calls_left_without_a_result_are_pending_in_the_outcome() -> None:
    out = events(
        AGUIEncoder(),
        [ToolCallBeginChunk("c1", "a"), ToolCallBeginChunk("c2", "b"), ToolResultChunk("c1", "x")],
    )
    assert out[-1]["outcome"] == {"type": "success", "pendingToolCallIds": ["c2"]}
    # both calls belong to one assistant message of the step
    starts = [e for e in out if e["type"] == "TOOL_CALL_START"]
    assert starts[0]["parentMessageId"] == starts[1]["parentMessageId"]


def test_state_root_sets_are_snapshots_and_the_rest_json_patch() -> None:
    encoder = AGUIEncoder(state={"a/b": {"c~d": "x"}, "list": [1]})
    out = events(
        encoder,
        [
            UpdateStateChunk(
                [
                    {"type": "append-text", "path": ["a/b", "c~d"], "value": "y"},
                    {"type": "set", "path": ["list", "1"], "value": 2},
                    {"type": "set", "path": ["list", "0"], "value": 0},
                    {"type": "set", "path": ["new", "deep"], "value": True},
                    {"type": "set", "path": ["bad", "0", "x"], "value": 1},
                ]
            ),
            UpdateStateChunk(
                [
                    {"type": "set", "path": ["n"], "value": None},
                    {"type": "set", "path": [], "value": {"fresh": 1}},
                    {"type": "set", "path": ["__proto__", "x"], "value": 1},
                ]
            ),
        ],
    )
    state_events = [e for e in out if e["type"].startswith("STATE_")]
    assert state_events == [
        {"type": "STATE_SNAPSHOT", "snapshot": {"a/b": {"c~d": "x"}, "list": [1]}},
        {
            "type": "STATE_DELTA",
            "delta": [
                {"op": "replace", "path": "/a~1b/c~0d", "value": "xy"},
                {"op": "add", "path": "/list/1", "value": 2},
                {"op": "replace", "path": "/list/0", "value": 0},
                {"op": "add", "path": "/new", "value": {"deep": True}},
                {"op": "add", "path": "/bad", "value": {"0": {"x": 1}}},
            ],
        },
        {"type": "STATE_DELTA", "delta": [{"op": "add", "path": "/n", "value": None}]},
        {"type": "STATE_SNAPSHOT", "snapshot": {"fresh": 1}},
        # fast-json-patch refuses __proto__: the state goes whole
        {"type": "STATE_SNAPSHOT", "snapshot": {"fresh": 1, "__proto__": {"x": 1}}},
    ]


def test_an_operation_the_state_refuses_is_skipped() -> None:
    out = events(
        AGUIEncoder(state={"s": "text", "l": []}),
        [
            UpdateStateChunk(
                [
                    {"type": "set", "path": ["s", "x"], "value": 1},  # cannot enter a string
                    {"type": "append-text", "path": ["l"], "value": "x"},  # not a string
                    {"type": "set", "path": ["l", "5"], "value": 1},  # out of range
                    {"type": "set", "path": ["ok"], "value": 1},
                ]
            )
        ],
    )
    deltas = [e["delta"] for e in out if e["type"] == "STATE_DELTA"]
    assert deltas == [[{"op": "add", "path": "/ok", "value": 1}]]


async def test_the_response_takes_ids_and_state_from_the_input() -> None:
    from assistant_stream_ce.serialization.ag_ui import AGUIResponse
    from assistant_stream_ce.serialization.ag_ui_input import RunAgentInput

    body = {"threadId": "t9", "runId": "r9", "state": {"k": 1}, "messages": []}
    for given in (body, RunAgentInput.model_validate(body)):
        response = AGUIResponse(DataChunkStream(), input=given)
        encoder = response.encoder
        assert isinstance(encoder, AGUIEncoder)
        assert (encoder.thread_id, encoder.run_id) == ("t9", "r9")
        first = [json.loads(f[6:]) for f in encoder.finish_frames()]
        assert first[1] == {"type": "STATE_SNAPSHOT", "snapshot": {"k": 1}}
    overridden = AGUIResponse(DataChunkStream(), input=body, run_id="mine").encoder
    assert isinstance(overridden, AGUIEncoder) and overridden.run_id == "mine"


class DataChunkStream:
    """An async iterable of no chunks."""

    def __aiter__(self) -> DataChunkStream:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


async def test_a_run_stopped_from_outside_finishes_cancelled() -> None:
    import asyncio

    from _util import encode
    from assistant_stream_ce import RunController, create_run

    started = asyncio.Event()

    async def run(controller: RunController) -> None:
        controller.append_text("partial")
        started.set()
        await controller.cancelled_event.wait()

    stream = create_run(run)
    reading = asyncio.ensure_future(encode(AGUIEncoder(thread_id="t", run_id="r"), stream))
    await started.wait()
    await stream.aclose()
    out = [json.loads(frame[6:]) for frame in (await reading).split(b"\n\n") if frame]
    assert [e["type"] for e in out[-2:]] == ["TEXT_MESSAGE_END", "RUN_FINISHED"]
    assert out[-1]["outcome"] == {"type": "cancelled"}


def test_a_state_value_without_a_json_form_is_skipped_and_the_run_goes_on() -> None:
    encoder = AGUIEncoder(state={})
    out = events(
        encoder,
        [
            UpdateStateChunk(
                [
                    {"type": "set", "path": ["bad"], "value": math.inf},
                    {"type": "set", "path": ["ok"], "value": 1},
                ]
            ),
            TextDeltaChunk("still here"),
        ],
    )
    assert [e["delta"] for e in out if e["type"] == "STATE_DELTA"] == [
        [{"op": "add", "path": "/ok", "value": 1}]
    ]
    assert out[-1]["type"] == "RUN_FINISHED" and "still here" in json.dumps(out)


# Text that stresses the batched text path: JSON escapes, the array separator `","` and
# escaped quotes next to it, line separators, lone surrogates, the cut byte NUL.
_TRICKY_TEXT = st.lists(
    st.sampled_from(
        [
            *('"', ",", "\\", '","', '\\","', '",', '["', '"]', "[", "]", "a", " ", "\n"),
            *("\x00", "é", "\u2028", "\x85", "\ud800", "😀"),
        ]
    ),
    max_size=6,
).map("".join) | st.text(max_size=8)
_DELTAS = st.lists(
    st.tuples(
        _TRICKY_TEXT | st.sampled_from([None, 5, ["p", "q", "r"], {"a": "b"}, 1.5]),
        st.sampled_from([None, None, None, "p1"]),
    ),
    max_size=40,
)


@hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
@hypothesis.given(_DELTAS, st.integers(min_value=1, max_value=50))
def test_a_batch_of_text_deltas_encodes_like_one_delta_at_a_time(
    deltas: list[tuple[Any, str | None]], batch: int
) -> None:
    def encode(size: int) -> list[bytes]:
        encoder = AGUIEncoder(thread_id="t", run_id="r")
        encoder._prefix = "p"  # the same message ids in both encodings
        chunks = [TextDeltaChunk(text, parent_id=parent) for text, parent in deltas]
        frames: list[bytes] = []
        for start in range(0, len(chunks), size):
            frames += encoder.encode_frames(chunks[start : start + size])
        return frames + encoder.finish_frames()

    one_at_a_time = encode(1)
    assert encode(batch) == one_at_a_time
    for frame in one_at_a_time:
        assert frame.count(b"\n") == 2 and frame.endswith(b"}\n\n")
        json.loads(frame[6:])
