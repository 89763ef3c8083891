"""The 0.0.36 state API: deep_apply, lookup_state, AssistantState drafts, Flusher, StateManager."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from _util import collect
from assistant_stream_ce import create_run
from assistant_stream_ce.assistant_stream_chunk import UpdateStateChunk
from assistant_stream_ce.state import (
    AssistantState,
    Flusher,
    StateDraft,
    StateProxy,
    StateProxyJSONEncoder,
    deep_apply,
    lookup_state,
)
from assistant_stream_ce.state_manager import StateManager
from assistant_stream_ce.state_proxy import StateProxy as ModuleStateProxy


def set_op(path: list[str], value: Any) -> Any:
    return {"type": "set", "path": path, "value": value}


def test_deep_apply_copies_only_the_containers_on_the_path() -> None:
    state = {"a": {"b": [1, 2]}, "c": {"d": 1}}
    result = deep_apply(state, ["a", "b", "1"], set_op(["a", "b", "1"], 9))
    assert result == {"a": {"b": [1, 9]}, "c": {"d": 1}}
    assert state == {"a": {"b": [1, 2]}, "c": {"d": 1}}
    assert result["c"] is state["c"]
    appended = deep_apply(result, ["a", "b", "2"], set_op(["a", "b", "2"], 3))
    assert appended["a"]["b"] == [1, 9, 3]
    with pytest.raises(KeyError):
        deep_apply(state, ["a", "b", "5"], set_op(["a", "b", "5"], 0))
    with pytest.raises(KeyError):
        deep_apply(state, ["a", "b", "-1"], set_op(["a", "b", "-1"], 0))


def test_deep_apply_append_text() -> None:
    op: Any = {"type": "append-text", "path": ["t"], "value": "!"}
    assert deep_apply({"t": "hi"}, ["t"], op) == {"t": "hi!"}
    assert deep_apply({}, ["t"], op) == {"t": "!"}
    with pytest.raises(TypeError):
        deep_apply({"t": 1}, ["t"], op)
    with pytest.raises(TypeError):
        deep_apply({}, [], {"type": "nope", "path": [], "value": 1})


def test_lookup_state() -> None:
    state = {"m": [{"t": "x"}]}
    assert lookup_state(state, ["m", "0", "t"]) == "x"
    for bad in (["m", "1"], ["m", "x"], ["nope"], ["m", "0", "t", "deeper"]):
        with pytest.raises(KeyError):
            lookup_state(state, bad)


def draft_of(initial: Any) -> tuple[AssistantState, Any, list[Any]]:
    ops: list[Any] = []
    state = AssistantState(initial)
    return state, state.draft(ops.extend), ops


def test_draft_first_write_to_empty_string_is_a_set_then_appends() -> None:
    state, draft, ops = draft_of({"m": [{"t": ""}]})
    draft["m"][0]["t"] = "ab"
    draft["m"][0]["t"] += "c"
    draft["m"][0]["t"] = "x"
    assert ops == [
        set_op(["m", "0", "t"], "ab"),
        {"type": "append-text", "path": ["m", "0", "t"], "value": "c"},
        set_op(["m", "0", "t"], "x"),
    ]
    assert state.state == {"m": [{"t": "x"}]}


def test_draft_resolves_negative_indices_in_operation_paths() -> None:
    state, draft, ops = draft_of({"items": [{"v": 1}, {"v": 2}]})
    draft["items"][-1]["v"] = 3
    assert ops == [set_op(["items", "1", "v"], 3)]
    assert state.state == {"items": [{"v": 1}, {"v": 3}]}


def test_draft_delete_clear_and_list_growth() -> None:
    state, draft, ops = draft_of({"d": {"a": 1, "b": 2}, "l": ["x"]})
    del draft["d"]["a"]
    draft["l"] += ["y", "z"]
    draft["l"].clear()
    assert ops == [
        set_op(["d"], {"b": 2}),
        set_op(["l", "1"], "y"),
        set_op(["l", "2"], "z"),
        set_op(["l"], []),
    ]
    assert state.state == {"d": {"b": 2}, "l": []}
    with pytest.raises(KeyError):
        del draft["d"]["missing"]


def test_draft_keeps_state_when_a_write_is_rejected() -> None:
    state, draft, ops = draft_of({"a": {"x": 1}, "l": []})
    with pytest.raises(ValueError):
        draft["l"].append({"nested": [draft["a"]]})
    assert ops == []
    assert state.state == {"a": {"x": 1}, "l": []}


def test_state_draft_host_interface() -> None:
    state = AssistantState({"t": "a"})
    ops: list[Any] = []
    host = StateDraft(state, ops.extend)
    host.append_text(["t"], "b")
    assert host.get_value_at_path(["t"]) == "ab"
    with pytest.raises(TypeError):
        host.append_text(["t"], 1)  # type: ignore[arg-type]
    assert ops == [{"type": "append-text", "path": ["t"], "value": "b"}]
    proxy = StateProxy(host)
    assert proxy._manager is host
    assert isinstance(ModuleStateProxy(host), StateProxy)
    assert str(proxy) == "{'t': 'ab'}"


def test_flusher_batches_operations_added_from_threads() -> None:
    emitted: list[list[Any]] = []
    scheduled: list[Any] = []
    lock = threading.Lock()

    def schedule(callback: Any) -> None:
        with lock:
            scheduled.append(callback)

    flusher = Flusher(emitted.append, schedule)
    threads = [
        threading.Thread(target=lambda i=i: flusher.add([set_op([str(i)], i)])) for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(scheduled) == 1
    scheduled[0]()
    assert len(emitted) == 1
    assert sorted(op["value"] for op in emitted[0]) == list(range(8))
    flusher.flush()
    assert len(emitted) == 1


async def test_state_manager_emits_one_chunk_per_loop_iteration() -> None:
    chunks: list[UpdateStateChunk] = []
    manager = StateManager(chunks.append, {"n": 0, "log": "a"})
    manager.state["n"] = 1
    manager.state["log"] += "b"
    manager.append_text(["log"], "c")
    assert chunks == []
    await asyncio.sleep(0)
    assert [chunk.operations for chunk in chunks] == [
        [
            set_op(["n"], 1),
            {"type": "append-text", "path": ["log"], "value": "b"},
            {"type": "append-text", "path": ["log"], "value": "c"},
        ]
    ]
    assert manager.state_data == {"n": 1, "log": "abc"}
    assert manager.get_value_at_path(["log"]) == "abc"
    manager.add_operations([set_op([], None)])
    manager.flush()
    assert manager.state is None
    assert chunks[-1].operations == [set_op([], None)]


async def test_run_state_refuses_reordering_methods_and_clears_with_one_set() -> None:
    async def run(controller: Any) -> None:
        items = controller.state["items"]
        for method, args in [("pop", ()), ("insert", (0, 1)), ("sort", ()), ("remove", (1,))]:
            with pytest.raises(NotImplementedError):
                getattr(items, method)(*args)
        assert items + [3] == [1, 2, 3]  # noqa: RUF005 - the proxy's __add__
        items.clear()

    chunks = await collect(create_run(run, state={"items": [1, 2]}))
    ops = [op for chunk in chunks if chunk.type == "update-state" for op in chunk.operations]
    assert ops == [set_op(["items"], [])]


def test_state_proxy_json_encoder_writes_the_value() -> None:
    _, draft, _ = draft_of({"user": {"tags": ["a"]}})
    text = json.dumps({"u": draft["user"]}, cls=StateProxyJSONEncoder)
    assert json.loads(text) == {"u": {"tags": ["a"]}}
    with pytest.raises(TypeError):
        json.dumps({"x": object()}, cls=StateProxyJSONEncoder)


def test_proxy_forwards_read_only_methods_of_the_value() -> None:
    state, draft, ops = draft_of({"items": ["a", "b", "a"], "d": {"k": 1}})
    assert draft["items"].count("a") == 2
    assert draft["items"].index("b") == 1
    copy = draft["d"].copy()
    copy["k"] = 2
    assert state.state["d"] == {"k": 1}
    assert ops == []
    with pytest.raises(AttributeError):
        draft["items"].no_such_method  # noqa: B018
