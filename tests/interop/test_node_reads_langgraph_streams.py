"""Real JavaScript clients (npm assistant-stream, AI SDK v4) decode graphs from stream_graph
(an interrupted one too)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langgraph")

from langgraph.checkpoint.memory import InMemorySaver
from node_client import decode_with_ai_sdk, decode_with_assistant_stream

from _langgraph_graphs import NOMA, booking_graph, question, react_graph, subgraph_graph
from _util import encode
from assistant_stream_ce import create_run
from assistant_stream_ce.modules.langgraph import stream_graph
from assistant_stream_ce.serialization.assistant_transport import AssistantTransportEncoder
from assistant_stream_ce.serialization.data_stream import DataStreamEncoder

pytestmark = pytest.mark.interop

ENCODERS = {"data-stream": DataStreamEncoder, "assistant-transport": AssistantTransportEncoder}


def summarize(part: dict[str, Any]) -> tuple[Any, ...]:
    if part["type"] == "tool-call":
        return ("tool-call", part["toolCallId"], part["toolName"], part["args"], part["result"])
    return (part["type"], part["text"])


async def graph_body(protocol: str, graph: Any) -> bytes:
    async def run(controller: Any) -> None:
        await stream_graph(controller, graph, question())

    return await encode(ENCODERS[protocol](), create_run(run))


@pytest.mark.parametrize("protocol", list(ENCODERS))
async def test_react_graph(protocol: str) -> None:
    decoded = decode_with_assistant_stream(protocol, await graph_body(protocol, react_graph()))
    assert decoded["ok"], decoded
    assert decoded["warnings"] == []
    assert [summarize(part) for part in decoded["message"]["parts"]] == [
        ("reasoning", "Need weather and time."),
        ("text", "Let me check. "),
        ("tool-call", "call_w", "get_weather", {"city": "Oslo"}, "sunny in Oslo"),
        ("tool-call", "call_t", "get_time", {"zone": "UTC"}, "12:00 UTC"),
        ("text", "It is sunny at noon."),
    ]


@pytest.mark.parametrize("protocol", list(ENCODERS))
async def test_subgraph_graph(protocol: str) -> None:
    decoded = decode_with_assistant_stream(protocol, await graph_body(protocol, subgraph_graph()))
    assert decoded["ok"], decoded
    texts = [p["text"] for p in decoded["message"]["parts"] if p["type"] == "text"]
    assert "".join(texts) == "Found three papers.Summary: three."
    assert "SECRET" not in str(decoded["message"])


async def test_ai_sdk_v4_reads_the_react_graph() -> None:
    async def run(controller: Any) -> None:
        await stream_graph(controller, react_graph(), question())

    body = await encode(DataStreamEncoder("ai-sdk-v4"), create_run(run))
    result = decode_with_ai_sdk(body)
    assert result["ok"], result
    chat = result["chat"]
    assert chat["ok"], chat
    assert chat["finishReason"] == "stop"
    invocations = chat["message"]["toolInvocations"]
    assert [
        (i["toolCallId"], i["toolName"], i["args"], i["state"], i["result"]) for i in invocations
    ] == [
        ("call_w", "get_weather", {"city": "Oslo"}, "result", "sunny in Oslo"),
        ("call_t", "get_time", {"zone": "UTC"}, "result", "12:00 UTC"),
    ]
    text = "".join(p["text"] for p in chat["message"]["parts"] if p["type"] == "text")
    assert text == "Let me check. It is sunny at noon."
    assert chat["message"]["reasoning"] == "Need weather and time."


@pytest.mark.parametrize("protocol", list(ENCODERS))
async def test_an_interrupt_reads_as_an_unanswered_call(protocol: str) -> None:
    """assistant-ui's form of an approval request: the call, without a result, to answer."""
    graph = booking_graph([], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}

    async def run(controller: Any) -> None:
        await stream_graph(controller, graph, question(), config)

    body = await encode(ENCODERS[protocol](), create_run(run))
    decoded = decode_with_assistant_stream(protocol, body)
    assert decoded["ok"], decoded
    assert decoded["warnings"] == []
    [call] = [p for p in decoded["message"]["parts"] if p["type"] == "tool-call"]
    assert (call["toolCallId"], call["toolName"], call["args"]) == ("call_book", "book_table", NOMA)
    assert call.get("result") is None
