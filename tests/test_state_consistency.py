"""The run's state and every client's copy stay equal, whatever the callback does (issue 14).

Each scenario runs through the data stream encoder, our decoder and the accumulator; the
client's state must equal the run's own state at the end.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from _util import encode
from assistant_stream_ce import accumulate, create_run
from assistant_stream_ce.serialization.data_stream import DataStreamDecoder, DataStreamEncoder


async def client_and_server_state(callback: Any, initial: Any) -> tuple[Any, Any, list[str]]:
    """(client state, run state, errors) after running ``callback``."""
    final: dict[str, Any] = {}

    async def run(controller: Any) -> None:
        await callback(controller)
        final["state"] = controller.state._assistant_stream_value_()

    body = await encode(DataStreamEncoder(), create_run(run, state=initial))
    message = accumulate(DataStreamDecoder().decode(body), initial)
    return message.state, final["state"], message.errors


async def test_a_list_extended_with_itself_doubles_once() -> None:
    async def callback(controller: Any) -> None:
        controller.state["l"] += controller.state["l"]

    client, server, _ = await client_and_server_state(callback, {"l": [1, 2]})
    assert server == client == {"l": [1, 2, 1, 2]}


async def test_a_value_changed_after_assignment_is_sent_as_assigned() -> None:
    async def callback(controller: Any) -> None:
        value = {"items": [1]}
        controller.state["x"] = value
        value["items"].append(2)  # not through the proxy: not part of the state
        value["new"] = True

    client, server, _ = await client_and_server_state(callback, {})
    assert server == client == {"x": {"items": [1]}}


async def test_negative_and_leading_zero_indices_mean_the_same_on_both_sides() -> None:
    async def callback(controller: Any) -> None:
        controller.state["l"][-1] = "last"
        controller.state["l"]["01"] = "second"
        controller.state["l"][-3] += "!"

    client, server, _ = await client_and_server_state(callback, {"l": ["a", "b", "c"]})
    assert server == client == {"l": ["a!", "second", "last"]}


async def test_one_value_without_json_form_costs_one_error_not_the_batch() -> None:
    async def callback(controller: Any) -> None:
        controller.state["a"] = 1
        controller.state["bad"] = {"x": math.nan}
        controller.state["b"] = 2
        controller.state["worse"] = object()
        controller.state["c"] = [3]

    client, server, errors = await client_and_server_state(callback, {})
    assert server == client == {"a": 1, "b": 2, "c": [3]}
    assert len(errors) == 2
    assert "state at ['bad'] not changed" in errors[0] and "nan" in errors[0]
    assert "state at ['worse'] not changed" in errors[1]


async def test_non_string_keys_are_refused_with_a_clear_error() -> None:
    async def callback(controller: Any) -> None:
        controller.state["d"]["k"] = 1
        with pytest.raises(TypeError, match="state keys must be strings"):
            controller.state["d"][1] = 2

    client, server, _ = await client_and_server_state(callback, {"d": {}})
    assert server == client == {"d": {"k": 1}}


def test_appending_to_one_string_is_linear_on_both_sides() -> None:
    """100,000 appends of 10 characters: about 0.3 s when linear; the old quadratic path
    needed tens of seconds (generous bound for a loaded machine)."""
    import time

    from assistant_stream_ce import UpdateStateChunk
    from assistant_stream_ce.accumulator import MessageAccumulator

    async def callback(controller: Any) -> None:
        for _ in range(100_000):
            controller.append_state_text(["log"], "xxxxxxxxxx")

    async def server_side() -> Any:
        chunks = [chunk async for chunk in create_run(callback, state={"log": ""})]
        return chunks

    import asyncio

    started = time.perf_counter()
    chunks = asyncio.run(server_side())
    accumulator = MessageAccumulator({"log": ""})
    for chunk in chunks:
        accumulator.add(chunk)
    state = accumulator.finish().state
    assert time.perf_counter() - started < 10
    assert len(state["log"]) == 1_000_000
    assert all(isinstance(chunk, UpdateStateChunk) for chunk in chunks)
