"""stream_graph: a compiled LangGraph graph streamed into a run, then into every protocol.

Real langgraph and langchain-core; the chat model is a scripted langchain-core model (see
_langgraph_graphs.py), so nothing touches the network.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

pytest.importorskip("langgraph")

from langchain_core.messages import AIMessage, ToolMessage
from langgraph.graph import END, START, MessagesState, StateGraph

from _langgraph_graphs import (
    ScriptedChatModel,
    question,
    react_graph,
    react_turns,
    subgraph_graph,
    text_chunks,
)
from _util import collect, encode
from assistant_stream_ce import Message, accumulate, create_run
from assistant_stream_ce.modules.langgraph import stream_graph
from assistant_stream_ce.serialization import PROTOCOLS, ProtocolInfo


async def graph_chunks(graph: Any, **kwargs: Any) -> list[Any]:
    async def run(controller: Any) -> None:
        await stream_graph(controller, graph, question(), **kwargs)

    return await collect(create_run(run))


def summary(message: Message) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for part in message.parts:
        if part.type in ("text", "reasoning"):
            out.append((part.type, part.text))  # type: ignore[union-attr]
        elif part.type == "tool-call":
            p: Any = part
            out.append(("tool-call", p.tool_call_id, p.tool_name, p.args, p.result, p.is_error))
    return out


REACT = [
    ("reasoning", "Need weather and time."),
    ("text", "Let me check. "),
    ("tool-call", "call_w", "get_weather", {"city": "Oslo"}, "sunny in Oslo", False),
    ("tool-call", "call_t", "get_time", {"zone": "UTC"}, "12:00 UTC", False),
    ("text", "It is sunny at noon."),
]


async def test_react_graph_with_two_tools() -> None:
    message = accumulate(await graph_chunks(react_graph()))
    assert summary(message) == REACT
    steps = [
        (s.message_id, s.finish_reason, s.input_tokens, s.output_tokens) for s in message.steps
    ]
    assert steps == [("ai-1", "tool-calls", 3, 7), ("ai-2", "stop", 20, 5)]
    assert message.errors == [] and message.finished


async def test_tool_arguments_stream_in_pieces_before_the_results() -> None:
    chunks = await graph_chunks(react_graph())
    weather_args = [c.args_text_delta for c in chunks if c.type == "tool-call-delta"]
    assert len(weather_args) >= 2  # streamed, not sent once complete
    kinds = [c.type for c in chunks]
    assert kinds.index("tool-call-args-text-finish") < kinds.index("tool-result")
    assert kinds.index("step-finish") < kinds.index("tool-result")


async def test_subgraph_custom_events_and_nostream() -> None:
    message = accumulate(await graph_chunks(subgraph_graph()))
    assert summary(message) == [("text", "Found three papers.Summary: three.")]
    assert message.data == [{"progress": "searching"}]
    assert [s.message_id for s in message.steps] == ["ai-inner", "ai-outer"]
    assert message.steps[-1].input_tokens == 9


async def test_subgraphs_off_streams_only_the_parent() -> None:
    message = accumulate(await graph_chunks(subgraph_graph(), subgraphs=False))
    # The subgraph's answer still arrives, as the message its node returned (not as tokens);
    # its custom events stay inside it.
    assert summary(message) == [("text", "Found three papers.Summary: three.")]
    assert message.data == []
    assert [s.message_id for s in message.steps] == ["ai-inner", "ai-outer"]


async def test_messages_returned_whole_and_failed_tools() -> None:
    async def plan(state: MessagesState) -> dict[str, Any]:
        call = {"name": "lookup", "args": {"q": "x"}, "id": "call_1"}
        return {"messages": [AIMessage(content="Planning.", id="ai-p", tool_calls=[call])]}

    async def act(state: MessagesState) -> dict[str, Any]:
        failed = ToolMessage(content="no such page", tool_call_id="call_1", status="error")
        return {"messages": [failed]}

    graph = StateGraph(MessagesState)
    graph.add_node("plan", plan)
    graph.add_node("act", act)
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "act")
    graph.add_edge("act", END)
    message = accumulate(await graph_chunks(graph.compile()))
    assert summary(message) == [
        ("text", "Planning."),
        ("tool-call", "call_1", "lookup", {"q": "x"}, "no such page", True),
    ]
    assert [s.finish_reason for s in message.steps] == ["tool-calls"]


def carried(message: Message, carries: frozenset[str]) -> dict[str, Any]:
    """What of ``message`` a protocol that carries ``carries`` can bring across."""
    parts: list[Any] = message.parts
    out: dict[str, Any] = {"text": "".join(p.text for p in parts if p.type == "text")}
    if "reasoning" in carries:
        out["reasoning"] = "".join(p.text for p in parts if p.type == "reasoning")
    calls = [p for p in parts if p.type == "tool-call"]
    if "tool-calls" in carries:
        out["tool-calls"] = [(p.tool_call_id, p.tool_name, p.args) for p in calls]
    if "tool-results" in carries:
        out["tool-results"] = [(p.tool_call_id, p.result, p.is_error) for p in calls]
    if "steps" in carries:
        out["steps"] = [(s.message_id, s.finish_reason) for s in message.steps]
    if "usage" in carries:
        out["usage"] = (
            sum(s.input_tokens for s in message.steps),
            sum(s.output_tokens for s in message.steps),
        )
    if "data" in carries:
        out["data"] = message.data
    return out


def make_encoder(info: ProtocolInfo) -> Any:
    """The protocol's encoder with the demo's options that are encoder options (the OpenAI
    encoder then streams every tool call in place)."""
    accepted = inspect.signature(info.encoder).parameters
    return info.encoder(**{k: v for k, v in info.demo_options.items() if k in accepted})


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
@pytest.mark.parametrize("graph", ["react", "subgraph"])
async def test_every_registered_protocol_carries_the_graph(protocol: str, graph: str) -> None:
    info = PROTOCOLS[protocol]
    make_graph = react_graph if graph == "react" else subgraph_graph

    async def run(controller: Any) -> None:
        await stream_graph(controller, make_graph(), question())

    body = await encode(make_encoder(info), create_run(run))
    decoded = accumulate(await collect(info.decoder().decode_stream([body])))
    direct = accumulate(await graph_chunks(make_graph()))
    assert carried(decoded, info.carries) == carried(direct, info.carries)
    assert direct.parts  # the graph produced something to compare
    if {"tool-calls", "tool-results", "steps", "data"} <= info.carries:
        assert decoded == direct  # a protocol that carries everything loses nothing


async def test_client_disconnect_cancels_the_graph() -> None:
    model = ScriptedChatModel(turns=react_turns(), delay=0.05)

    async def run(controller: Any) -> None:
        await stream_graph(controller, react_graph(model), question())

    stream = create_run(run)
    first = await asyncio.wait_for(stream.__anext__(), 2)
    assert first.type == "step-start"
    started = asyncio.get_running_loop().time()
    await stream.aclose()
    assert model.cancelled == [True]
    assert asyncio.get_running_loop().time() - started < 1
    await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not [t for t in leftover if not t.done()], leftover


async def test_a_failing_node_ends_the_run_with_its_error() -> None:
    async def broken(state: MessagesState) -> dict[str, Any]:
        raise RuntimeError("tool backend down")

    graph = StateGraph(MessagesState)
    graph.add_node("broken", broken)
    graph.add_edge(START, "broken")
    chunks: list[Any] = []
    with pytest.raises(RuntimeError, match="tool backend down"):
        async for chunk in create_run(
            lambda controller: stream_graph(controller, graph.compile(), question())
        ):
            chunks.append(chunk)
    assert [c.type for c in chunks] == ["error"]


def test_text_chunks_helper_marks_the_last_chunk() -> None:
    chunks = text_chunks("m", "a", "b")
    assert [c.chunk_position for c in chunks] == [None, None, "last"]
