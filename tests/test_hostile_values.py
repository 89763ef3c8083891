"""Hostile values never escape as untyped exceptions, and never cost more than linear time.

Regressions from the adversarial sweep (issue 14): a value nested past the JSON depth limit ends
the stream early and loses later tokens; deep or huge partial tool arguments make the best-effort
parser quadratic in time and memory; a deep state value or a 5000-digit list index escapes the
accumulator as RecursionError / ValueError.
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest

from _util import encode
from assistant_stream_ce import (
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    UpdateStateChunk,
    accumulate,
    create_run,
)
from assistant_stream_ce._json import dumps
from assistant_stream_ce.accumulator import parse_partial_json
from assistant_stream_ce.errors import SerializationError
from assistant_stream_ce.serialization import PROTOCOLS


def nested(depth: int) -> Any:
    value: list[Any] = []
    inner = value
    for _ in range(depth):
        child: list[Any] = []
        inner.append(child)
        inner = child
    return value


@pytest.mark.parametrize("depth", [300, 5000])
def test_a_too_deep_value_is_a_serialization_error(depth: int) -> None:
    with pytest.raises(SerializationError, match="nested more than 254 levels"):
        dumps(nested(depth), "data")


@pytest.mark.parametrize("protocol", ["data-stream", "assistant-transport"])
async def test_a_too_deep_value_costs_one_error_frame_and_no_later_token(protocol: str) -> None:
    async def run(controller: Any) -> None:
        controller.append_text("before ")
        controller.add_data(nested(5000))
        controller.append_text("after")

    body = await encode(PROTOCOLS[protocol].encoder(), create_run(run))
    message = accumulate(PROTOCOLS[protocol].decoder().decode(body))
    assert message.text == "before after"
    assert len(message.errors) == 1 and "nested more than 254 levels" in message.errors[0]


def timed(function: Any, *args: Any) -> tuple[Any, float, float]:
    """Result, seconds (untraced) and peak traced MiB (a second, traced call) of ``function``.

    The bounds below are loose for a loaded machine: what they catch is quadratic behaviour,
    which took minutes and gigabytes on these inputs.
    """
    started = time.perf_counter()
    result = function(*args)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        function(*args)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, seconds, peak / 2**20


def test_partial_json_is_linear_in_depth_and_length() -> None:
    _, seconds, peak = timed(parse_partial_json, "[" * 100_000)
    assert seconds < 5 and peak < 64, (seconds, peak)
    value, seconds, peak = timed(parse_partial_json, '{"k": "' + "x" * 2_000_000)
    assert value == {"k": "x" * 2_000_000}
    assert seconds < 5 and peak < 64, (seconds, peak)
    assert parse_partial_json('{"a": [1, {"b": "x') == {"a": [1, {"b": "x"}]}


def test_accumulating_hostile_arguments_and_state_is_typed_and_bounded() -> None:
    chunks = [
        ToolCallBeginChunk("call_1", "t"),
        ToolCallDeltaChunk("call_1", "[" * 100_000),
        UpdateStateChunk(
            [
                {"type": "set", "path": ["list"], "value": [1]},
                {"type": "set", "path": ["list", "9" * 5000], "value": 2},
                {"type": "set", "path": ["deep"], "value": nested(3000)},
                {"type": "set", "path": ["ok"], "value": True},
            ]
        ),
    ]
    message, seconds, _ = timed(accumulate, chunks)
    assert seconds < 10
    assert message.state == {"list": [1], "ok": True}  # the bad operations are skipped
    assert message.to_dict()["parts"][0]["args"] == {}
