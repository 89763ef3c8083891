"""modules.langgraph: 0.0.36's append_langgraph_event and get_tool_call_subgraph_state."""

from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

import pytest

pytest.importorskip("langchain_core")

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from _util import collect
from assistant_stream_ce import create_run
from assistant_stream_ce.modules.langgraph import (
    append_langgraph_event,
    get_tool_call_subgraph_state,
)
from assistant_stream_ce.state import copy_json_value, deep_apply
from assistant_stream_ce.state_manager import StateManager


def events() -> list[tuple[str, Any]]:
    """What graph.astream(stream_mode=["messages", "updates"]) yields for a short ReAct turn."""

    def chunk(**kwargs: Any) -> tuple[str, Any]:
        return ("messages", (AIMessageChunk(id="ai1", **kwargs), {"langgraph_node": "agent"}))

    return [
        ("messages", (HumanMessage(content="weather?", id="h1"), {})),
        chunk(content="Let me "),
        chunk(content="check."),
        chunk(
            content="",
            tool_call_chunks=[{"name": "weather", "args": '{"ci', "id": "c1", "index": 0}],
        ),
        chunk(content="", tool_call_chunks=[{"name": None, "args": 'ty":"Oslo"}', "index": 0}]),
        chunk(
            content="", usage_metadata={"input_tokens": 3, "output_tokens": 5, "total_tokens": 8}
        ),
        ("updates", {"agent": {"messages": ["ignored"], "step": 1}}),
        ("messages", (ToolMessage(content="sunny", tool_call_id="c1", id="t1"), {})),
        ("updates", {"tools": {"step": 2, "last_tool": "weather"}, "skip": None}),
        ("messages", (AIMessage(content="It is sunny.", id="ai2"), {})),
        ("messages", (HumanMessage(content="weather? (edited)", id="h1"), {})),
        ("custom", {"progress": 1}),
    ]


def replay(module: Any, manager_cls: Any) -> tuple[Any, list[Any]]:
    ops: list[Any] = []
    manager = manager_cls(lambda chunk: ops.extend(chunk.operations), {"messages": []})
    for kind, payload in events():
        module.append_langgraph_event(manager.state, (), kind, payload)
    manager.flush()
    return manager.state_data, ops


def by_path(ops: list[Any]) -> dict[tuple[str, ...], list[Any]]:
    grouped: dict[tuple[str, ...], list[Any]] = {}
    for op in ops:
        grouped.setdefault(tuple(op["path"]), []).append(op)
    return grouped


async def test_same_state_and_operations_as_the_baseline() -> None:
    pytest.importorskip("assistant_stream", reason="assistant-stream==0.0.36 baseline")
    old_langgraph = importlib.import_module("assistant_stream.modules.langgraph")
    old_manager = importlib.import_module("assistant_stream.state_manager").StateManager
    new_langgraph = importlib.import_module("assistant_stream_ce.modules.langgraph")
    old_state, old_ops = replay(old_langgraph, old_manager)
    new_state, new_ops = replay(new_langgraph, StateManager)
    assert new_state == old_state
    # 0.0.36 walks a message's keys as a set (its order varies between processes): compare
    # the operations at each path, in order.
    assert by_path(new_ops) == by_path(old_ops)
    assert new_state["messages"][1]["content"] == "Let me check."
    assert new_state["messages"][1]["tool_call_chunks"][0]["args"] == '{"city":"Oslo"}'
    assert (new_state["step"], new_state["last_tool"]) == (2, "weather")


def test_plain_dict_state() -> None:
    state: dict[str, Any] = {}
    for kind, payload in events():
        append_langgraph_event(state, (), kind, payload)
    assert [m["id"] for m in state["messages"]] == ["h1", "ai1", "t1", "ai2"]
    assert state["messages"][0]["content"] == "weather? (edited)"
    assert state["messages"][1]["type"] == "ai"
    assert state["messages"][1]["tool_calls"][0]["args"] == {"city": "Oslo"}


async def test_streaming_into_a_run_sends_small_operations() -> None:
    async def run(controller: Any) -> None:
        for kind, payload in events():
            append_langgraph_event(controller.state, ("agent:1",), kind, payload)

    initial: dict[str, Any] = {"messages": []}
    chunks = await collect(create_run(run, state=initial))
    ops = [op for chunk in chunks if chunk.type == "update-state" for op in chunk.operations]
    # Each AI chunk after the first adds to the message in place: never re-sent whole.
    assert [op["type"] for op in ops if op["path"] == ["messages", "1"]] == ["set"]
    assert {"type": "append-text", "path": ["messages", "1", "content"], "value": "check."} in ops
    assert {
        "type": "append-text",
        "path": ["messages", "1", "tool_call_chunks", "0", "args"],
        "value": 'ty":"Oslo"}',
    } in ops
    client: Any = initial
    for op in ops:
        client = deep_apply(client, op["path"], op)
    expected: dict[str, Any] = {}
    for kind, payload in events():
        append_langgraph_event(expected, (), kind, payload)
    assert client == expected


def ai_calling(tool: str) -> dict[str, Any]:
    return AIMessage(
        content="", id="ai1", tool_calls=[{"name": tool, "args": {}, "id": "c1"}]
    ).model_dump()


async def run_subgraph_state(initial: Any, namespace: tuple[str, ...], **kwargs: Any) -> Any:
    seen: dict[str, Any] = {}

    async def run(controller: Any) -> None:
        target = get_tool_call_subgraph_state(
            controller, namespace, "research", {"notes": []}, **kwargs
        )
        seen["value"] = copy_json_value(target)
        if "notes" in target:
            target["notes"].append("n1")
        seen["state"] = copy_json_value(controller.state)

    seen["chunks"] = await collect(create_run(run, state=initial))
    return seen


async def test_subgraph_state_lives_in_a_new_tool_message_artifact() -> None:
    seen = await run_subgraph_state(
        {"messages": [ai_calling("research")]},
        ("research:task1", "inner:2"),
        artifact_field_name="sub",
    )
    assert seen["value"] == {"notes": []}
    tool_message = seen["state"]["messages"][1]
    assert tool_message["type"] == "tool"
    assert (tool_message["tool_call_id"], tool_message["name"]) == ("c1", "research")
    assert tool_message["additional_kwargs"] == {"streaming": True}
    assert tool_message["artifact"] == {"sub": {"notes": ["n1"]}}
    ops = [op for c in seen["chunks"] if c.type == "update-state" for op in c.operations]
    assert ops[-1] == {
        "type": "set",
        "path": ["messages", "1", "artifact", "sub", "notes", "0"],
        "value": "n1",
    }


async def test_subgraph_state_without_field_name_is_the_artifact() -> None:
    seen = await run_subgraph_state({"messages": [ai_calling("research")]}, ("research:t",))
    assert seen["state"]["messages"][1]["artifact"] == {"notes": ["n1"]}


@pytest.mark.parametrize(
    ("initial", "namespace", "kwargs"),
    [
        ({"messages": [ai_calling("other")]}, ("research:t",), {"tool_name": "research"}),
        ({"messages": [ai_calling("research")]}, ("agent:t",), {}),
        ({"messages": []}, ("research:t",), {}),
        (None, ("research:t",), {}),
    ],
)
async def test_subgraph_state_falls_back_to_the_run_state(
    initial: Any, namespace: tuple[str, ...], kwargs: Any
) -> None:
    seen = await run_subgraph_state(initial, namespace, **kwargs)
    # The run state itself comes back (None was replaced by the default): no tool message.
    assert seen["value"] == (initial or {"notes": []})
    assert seen["state"] == (copy_json_value(initial) if initial else {"notes": ["n1"]})


def test_package_imports_without_langchain_core() -> None:
    code = (
        "import sys; sys.modules['langchain_core'] = None\n"
        "import assistant_stream_ce as a\n"
        "assert 'append_langgraph_event' not in a.__all__\n"
        "assert not hasattr(a, 'get_tool_call_subgraph_state')\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_root_reexports_with_langchain_core() -> None:
    import assistant_stream_ce

    assert assistant_stream_ce.append_langgraph_event is append_langgraph_event
    assert "get_tool_call_subgraph_state" in assistant_stream_ce.__all__
