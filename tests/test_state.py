"""controller.state: operations, paths, batching, reads and cost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from _util import collect
from assistant_stream_ce import RunController, TextDeltaChunk, UpdateStateChunk, create_run


async def operations(run: Any, state: Any = None) -> list[list[dict[str, Any]]]:
    """The operations of each update-state chunk."""
    chunks = await collect(create_run(run, state=state))
    return [c.operations for c in chunks if c.type == "update-state"]


def apply(state: Any, ops: list[dict[str, Any]]) -> Any:
    """Apply operations the way the assistant-ui client does."""
    for op in ops:
        path = op["path"]
        if not path:
            state = op["value"]
            continue
        node = state
        for key in path[:-1]:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        last = path[-1]
        if isinstance(node, list):
            index = int(last)
            if op["type"] == "set":
                if index == len(node):
                    node.append(op["value"])
                else:
                    node[index] = op["value"]
            else:
                node[index] += op["value"]
        elif op["type"] == "set":
            node[last] = op["value"]
        else:
            node[last] += op["value"]
    return state


async def test_seed_state_example_emits_set_and_append_text() -> None:
    async def run(controller: RunController) -> None:
        controller.state = {"messages": "", "count": 0}
        controller.state["messages"] += "Hello"
        controller.state["count"] = controller.state["count"] + 1

    batches = await operations(run, state={})
    assert batches == [
        [
            {"type": "set", "path": [], "value": {"messages": "", "count": 0}},
            {"type": "append-text", "path": ["messages"], "value": "Hello"},
            {"type": "set", "path": ["count"], "value": 1},
        ]
    ]


async def test_nested_paths_and_list_indices() -> None:
    final: dict[str, Any] = {}

    async def run(controller: RunController) -> None:
        controller.state["a"] = {"b": {"c": 1}, "items": ["x"]}
        controller.state["a"]["b"]["c"] = 2
        controller.state["a"]["items"][0] += "y"
        controller.state["a"]["items"].append({"n": 1})
        controller.state["a"]["items"][1]["n"] = 5
        controller.state["a"]["items"] += ["z"]
        final.update(controller.state._assistant_stream_value_())

    (ops,) = await operations(run, state={})
    assert ops[1:] == [
        {"type": "set", "path": ["a", "b", "c"], "value": 2},
        {"type": "append-text", "path": ["a", "items", "0"], "value": "y"},
        {"type": "set", "path": ["a", "items", "1"], "value": {"n": 1}},
        {"type": "set", "path": ["a", "items", "1", "n"], "value": 5},
        {"type": "set", "path": ["a", "items", "2"], "value": "z"},
    ]
    # The first operation's value is the value as it was set, not as it was later mutated.
    assert ops[0] == {"type": "set", "path": ["a"], "value": {"b": {"c": 1}, "items": ["x"]}}
    assert apply({}, ops) == final == {"a": {"b": {"c": 2}, "items": ["xy", {"n": 5}, "z"]}}


async def test_replaying_operations_rebuilds_the_state_even_with_in_place_edits() -> None:
    """A set value must not alias the live state (else `+=` would apply twice)."""
    final: dict[str, Any] = {}

    async def run(controller: RunController) -> None:
        controller.state["s"] = {"t": "a"}
        controller.state["s"]["t"] += "b"
        final.update(controller.state._assistant_stream_value_())

    (ops,) = await operations(run, state={})
    assert apply({}, ops) == final == {"s": {"t": "ab"}}


async def test_reads_return_current_values() -> None:
    seen: list[Any] = []

    async def run(controller: RunController) -> None:
        seen.append(controller.state["count"])
        controller.state["count"] = 5
        seen.append(controller.state["count"])
        seen.append(controller.state.get("missing", "default"))
        seen.append("count" in controller.state)
        seen.append(len(controller.state))
        seen.append(controller.state == {"count": 5})
        seen.append(dict(controller.state.items()))

    await operations(run, state={"count": 1})
    assert seen == [1, 5, "default", True, 1, True, {"count": 5}]


async def test_initial_state_is_not_mutated_and_not_re_emitted() -> None:
    initial = {"n": 1}

    async def run(controller: RunController) -> None:
        controller.state["n"] = 2

    batches = await operations(run, state=initial)
    assert initial == {"n": 1}
    assert batches == [[{"type": "set", "path": ["n"], "value": 2}]]


async def test_state_none_then_root_set() -> None:
    async def run(controller: RunController) -> None:
        assert controller.state is None
        controller.state = {"x": 1}
        controller.state["x"] = 2

    assert await operations(run) == [
        [{"type": "set", "path": [], "value": {"x": 1}}, {"type": "set", "path": ["x"], "value": 2}]
    ]


async def test_operations_are_batched_per_tick_and_flushed_before_other_chunks() -> None:
    async def run(controller: RunController) -> None:
        controller.state["a"] = 1
        controller.state["b"] = 2
        controller.append_text("t")
        controller.state["c"] = 3
        await asyncio.sleep(0.01)
        controller.state["d"] = 4
        controller.flush()
        controller.state["e"] = 5

    chunks = await collect(create_run(run, state={}))
    assert [(c.type, [op["path"] for op in getattr(c, "operations", [])]) for c in chunks] == [
        ("update-state", [["a"], ["b"]]),
        ("text-delta", []),
        ("update-state", [["c"]]),
        ("update-state", [["d"]]),
        ("update-state", [["e"]]),
    ]
    assert isinstance(chunks[0], UpdateStateChunk)
    assert chunks[1] == TextDeltaChunk("t")


async def test_append_state_text_and_its_errors() -> None:
    async def run(controller: RunController) -> None:
        controller.append_state_text(["log"], "a")
        controller.append_state_text(["log"], "b")
        with pytest.raises(TypeError, match="not str"):
            controller.append_state_text(["n"], "x")

    assert await operations(run, state={"log": "", "n": 1}) == [
        [
            {"type": "append-text", "path": ["log"], "value": "a"},
            {"type": "append-text", "path": ["log"], "value": "b"},
        ]
    ]


async def test_delete_resends_the_parent() -> None:
    async def run(controller: RunController) -> None:
        del controller.state["a"]["x"]

    assert await operations(run, state={"a": {"x": 1, "y": 2}}) == [
        [{"type": "set", "path": ["a"], "value": {"y": 2}}]
    ]


async def test_keys_with_slashes_and_tildes_are_plain_segments() -> None:
    async def run(controller: RunController) -> None:
        controller.state["a/b"] = 1
        controller.state["c~d"] = {"e/f": 2}

    (ops,) = await operations(run, state={})
    assert [op["path"] for op in ops] == [["a/b"], ["c~d"]]


async def test_concurrent_runs_have_isolated_state() -> None:
    gate = asyncio.Event()

    async def first(controller: RunController) -> None:
        controller.state["who"] = "first"
        await gate.wait()
        controller.state["seen"] = controller.state["who"]

    async def second(controller: RunController) -> None:
        controller.state["who"] = "second"
        gate.set()

    shared = {"who": None}
    a, b = await asyncio.gather(operations(first, state=shared), operations(second, state=shared))
    assert [op for batch in a for op in batch] == [
        {"type": "set", "path": ["who"], "value": "first"},
        {"type": "set", "path": ["seen"], "value": "first"},
    ]
    assert b == [[{"type": "set", "path": ["who"], "value": "second"}]]
    assert shared == {"who": None}


async def test_one_operation_costs_about_its_path_not_the_state_size() -> None:
    """Operations update the state in place: the containers around the change are not copied."""
    identities: list[tuple[int, int]] = []

    async def run(controller: RunController) -> None:
        data = controller.state._assistant_stream_value_()
        before = (id(data), id(data["blob"]))
        for i in range(100):
            controller.state["counter"] = i
            controller.state["log"] += "x"
            controller.state["nested"]["deep"]["value"] = i
        data = controller.state._assistant_stream_value_()
        identities.extend([before, (id(data), id(data["blob"]))])

    big = {"blob": list(range(100_000)), "log": "", "nested": {"deep": {}}}
    await operations(run, state=big)
    assert identities[0] == identities[1]
