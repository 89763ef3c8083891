"""Graph interrupts through the real clients against uvicorn: npm ``ai`` 6 and 7 chats (approval
request → ``addToolApprovalResponse`` → ``sendMessage()``) and ``@ag-ui/client``'s HttpAgent
(interrupt outcome → ``runAgent({resume})``). Each POST is parsed by `chat_request`;
`resume_command` turns the answer into the ``Command`` that resumes the checkpointed thread."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest

pytest.importorskip("langgraph")

from fastapi import Depends, FastAPI
from langgraph.checkpoint.memory import InMemorySaver
from test_ag_ui_approvals import drive as drive_ag_ui
from test_approvals_with_ai_chat import drive as drive_ai_chat

from _langgraph_graphs import NOMA, booking_graph, publish_graph
from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.assistant_stream_chunk import denial_text
from assistant_stream_ce.modules.langgraph import resume_command, stream_graph
from assistant_stream_ce.requests import ChatRequest, chat_request
from assistant_stream_ce.serialization.ag_ui import AGUIResponse
from assistant_stream_ce.serialization.ui_message_stream import UIMessageStreamResponse

pytestmark = [pytest.mark.interop, pytest.mark.http]

BOOKED = "Booked a table for 2 at Noma."


class Graphs:
    """The app's graphs on a fresh checkpointer, and what their side effects recorded."""

    def __init__(self) -> None:
        self.done: list[Any] = []
        saver = InMemorySaver()
        self.graphs = {
            "booking": booking_graph(self.done, checkpointer=saver),
            "publish": publish_graph(self.done, checkpointer=saver),
        }


CURRENT = Graphs()


async def graph_run(kind: str, request: ChatRequest) -> Any:
    """The run for one request: the resumed thread if it answers an interrupt, else a turn."""
    graph = CURRENT.graphs[kind]
    config = {"configurable": {"thread_id": f"{kind}:{request.thread_id}"}}
    command = await resume_command(graph, request, config)
    input = command if command is not None else {"messages": request.messages[-1:]}

    async def run(controller: RunController) -> None:
        await stream_graph(controller, graph, input, config)

    return create_run(run)


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/chat/{version}/{kind}")
    async def chat(
        version: int,
        kind: str,
        request: Annotated[ChatRequest, Depends(chat_request("ui-message-stream"))],
    ) -> UIMessageStreamResponse:
        return UIMessageStreamResponse(
            await graph_run(kind, request),
            sdk_version=version,
            message_id=request.message_id,
            continued_tool_calls=[answer.tool_call_id for answer in request.answers],
        )

    @app.post("/agent/{kind}")
    async def agent(
        kind: str, request: Annotated[ChatRequest, Depends(chat_request("ag-ui"))]
    ) -> AGUIResponse:
        return AGUIResponse(
            await graph_run(kind, request),
            thread_id=request.thread_id,
            run_id=request.run_id,
            continued_tool_calls=[answer.tool_call_id for answer in request.answers],
        )

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(make_app()).start()
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def fresh_graphs() -> None:
    global CURRENT
    CURRENT = Graphs()


def text_of(message: dict[str, Any]) -> str:
    return "".join(p["text"] for p in message["parts"] if p["type"] == "text")


@pytest.mark.parametrize("client", ["ai6", "ai7"])
@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_ai_chat_approves_a_tool_call_the_graph_asked_about(
    server: LiveServer, client: str, decision: str
) -> None:
    result = drive_ai_chat(client, server.url(f"/chat/{client[-1]}/booking"), decision)
    assert result["errors"] == [] and result["error"] is None
    [_user, assistant] = result["messages"]
    continuation = result["bodies"][1]
    assert continuation["messageId"] == assistant["id"]
    [part] = [p for p in assistant["parts"] if p["type"] == "tool-book_table"]
    assert part["toolCallId"] == "call_book" and part["input"] == NOMA
    if decision == "approve":
        assert CURRENT.done == [NOMA]
        assert (part["state"], part["output"]) == ("output-available", BOOKED)
        assert text_of(assistant) == f"Let me book that. Outcome: {BOOKED}"
    else:
        assert CURRENT.done == []
        assert part["state"] == "output-denied" and part["approval"]["approved"] is False
        assert text_of(assistant).endswith("Outcome: The user denied the booking: not today")


@pytest.mark.parametrize("client", ["ai6", "ai7"])
@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_ai_chat_answers_an_interrupt_about_no_tool_call(
    server: LiveServer, client: str, decision: str
) -> None:
    result = drive_ai_chat(client, server.url(f"/chat/{client[-1]}/publish"), decision)
    assert result["errors"] == [] and result["error"] is None
    assistant = result["messages"][-1]
    [part] = [p for p in assistant["parts"] if p["type"] == "tool-interrupt"]
    assert part["toolCallId"].startswith("interrupt_")
    assert part["input"] == {"value": "Publish the draft?"}
    if decision == "approve":
        assert CURRENT.done == ["draft"]
        assert (part["state"], part["output"]) == ("output-available", {"approved": True})
        assert text_of(assistant) == "Draft ready.Published."
    else:
        assert CURRENT.done == []
        assert part["state"] == "output-denied"
        assert text_of(assistant) == "Draft ready.Not published."


@pytest.mark.parametrize("kind", ["booking", "publish"])
@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_ag_ui_client_resumes_the_interrupted_graph(
    server: LiveServer, kind: str, decision: str
) -> None:
    result = drive_ag_ui(server.url(f"/agent/{kind}"), decision)
    assert result["ok"], result["error"]
    assert result["errors"] == [] and result["warnings"] == []
    first, second = result["outcomes"]
    assert first["type"] == "interrupt" and second["type"] == "success"
    [interrupt] = result["pending"]
    call_id = interrupt["toolCallId"]
    assert interrupt["reason"] == "tool_approval" and interrupt["id"] == f"approval_{call_id}"
    assert result["bodies"][1]["resume"][0]["interruptId"] == interrupt["id"]
    messages = result["messages"]
    calls = [c for m in messages if m["role"] == "assistant" for c in m.get("toolCalls") or ()]
    called = {
        c["id"]: (c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls
    }
    texts = [m.get("content") for m in messages if m["role"] == "assistant"]
    results = {m["toolCallId"]: m["content"] for m in messages if m["role"] == "tool"}
    if kind == "booking":
        assert called[call_id] == ("book_table", NOMA)
        outcome = BOOKED if decision == "approve" else "The user denied the booking."
        assert f"Outcome: {outcome}" in texts
        # AG-UI has no denied state: the denial is the call's error result.
        assert results.get(call_id) == (BOOKED if decision == "approve" else denial_text())
        assert CURRENT.done == ([NOMA] if decision == "approve" else [])
    else:
        assert called[call_id] == ("interrupt", {"value": "Publish the draft?"})
        assert ("Published." if decision == "approve" else "Not published.") in texts
        assert CURRENT.done == (["draft"] if decision == "approve" else [])
