"""Graph interrupts as approval requests, resumed from the next request.

Real langgraph (in-memory checkpointer) and langchain-core with scripted models (see
_langgraph_graphs.py). The first run ends with an approval request, which every registered
protocol shows its own way; the client's answer, POSTed in that protocol's own request shape and
parsed by `parse_request`, becomes `resume_command`'s ``Command`` and the graph goes on.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("langgraph")

from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import Command, interrupt

from _langgraph_graphs import NOMA, booking_graph, inside_a_parent, publish_graph, question
from _util import collect, encode
from assistant_stream_ce import Message, accumulate, create_run
from assistant_stream_ce.assistant_stream_chunk import denial_text
from assistant_stream_ce.modules.langgraph import (
    INTERRUPT_TOOL_NAME,
    PendingInterrupt,
    pending_interrupts,
    resume_command,
    stream_graph,
)
from assistant_stream_ce.requests import ChatRequest, ToolAnswer, parse_request
from assistant_stream_ce.serialization import PROTOCOLS
from assistant_stream_ce.serialization.rais import APPROVAL_NOTE

BOOKED = "Booked a table for 2 at Noma."


class Thread:
    """One graph on one checkpointed thread, with what its side effects recorded."""

    def __init__(self, kind: str, **options: Any) -> None:
        self.done: list[Any] = []
        saver = InMemorySaver()
        if kind == "booking":
            self.graph = booking_graph(self.done, checkpointer=saver, **options)
        elif kind == "publish":
            self.graph = publish_graph(self.done, checkpointer=saver)
        else:
            self.graph = inside_a_parent(booking_graph(self.done), checkpointer=saver)
        self.config = {"configurable": {"thread_id": f"thread-{kind}"}}

    def run(self, input: Any) -> Any:
        async def callback(controller: Any) -> None:
            await stream_graph(controller, self.graph, input, self.config)

        return create_run(callback)

    async def chunks(self, input: Any) -> list[Any]:
        return await collect(self.run(input))

    async def pending(self) -> list[PendingInterrupt]:
        return await pending_interrupts(self.graph, self.config)


def calls(message: Message) -> dict[str, Any]:
    return {call.tool_call_id: call for call in message.tool_calls}


# -- the first run: an approval request --------------------------------------------------------


async def test_an_interrupt_about_a_tool_call_asks_to_approve_that_call() -> None:
    thread = Thread("booking")
    chunks = await thread.chunks(question())
    assert chunks[-1].type == "tool-approval-request"
    assert (chunks[-1].tool_call_id, chunks[-1].approval_id) == ("call_book", "approval_call_book")
    message = accumulate(chunks)
    call = calls(message)["call_book"]
    assert (call.tool_name, call.args, call.has_result) == ("book_table", NOMA, False)
    assert call.approval_id == "approval_call_book"
    assert message.finish_reason == "tool-calls" and message.errors == []
    [pending] = await thread.pending()
    assert pending.for_tool_call and pending.tool_call_id == "call_book"
    assert pending.value == {"action": "book_table", "args": NOMA}
    assert thread.done == []


async def test_an_interrupt_about_no_tool_call_gets_a_call_of_its_own() -> None:
    thread = Thread("publish")
    message = accumulate(await thread.chunks(question()))
    [state_interrupt] = (await thread.graph.aget_state(thread.config)).interrupts
    [call] = message.tool_calls
    assert call.tool_call_id == f"interrupt_{state_interrupt.id}"
    assert (call.tool_name, call.args) == (INTERRUPT_TOOL_NAME, {"value": "Publish the draft?"})
    assert call.approval_id == f"approval_interrupt_{state_interrupt.id}"
    assert message.text == "Draft ready."


async def test_a_subgraph_interrupt_asks_once() -> None:
    thread = Thread("subgraph")
    chunks = await thread.chunks(question())
    requests = [c for c in chunks if c.type == "tool-approval-request"]
    assert [r.tool_call_id for r in requests] == ["call_book"]
    [pending] = await thread.pending()
    assert pending.tool_call_id == "call_book" and pending.args == NOMA
    request = ChatRequest(
        protocol="test",
        answers=[ToolAnswer(tool_call_id="call_book", kind="approval", approved=True)],
    )
    command = await resume_command(thread.graph, request, thread.config)
    message = accumulate(await thread.chunks(command))
    assert calls(message)["call_book"].result == BOOKED
    assert thread.done == [NOMA]


def one_question_graph(value: Any) -> Any:
    """plan (an AI message calling lookup) → ask (``interrupt(value)``)."""

    def plan(state: MessagesState) -> dict[str, Any]:
        call = {"name": "lookup", "args": {"q": "x"}, "id": "call_x"}
        return {"messages": [AIMessage("", id="ai-plan", tool_calls=[call])]}

    def ask(state: MessagesState) -> dict[str, Any]:
        interrupt(value)
        return {}

    graph = StateGraph(MessagesState)
    graph.add_node("plan", plan)
    graph.add_node("ask", ask)
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "ask")
    return graph.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize(
    ("value", "call_id", "name", "args"),
    [
        ({"tool_call_id": "call_x"}, "call_x", "lookup", {"q": "x"}),
        ({"name": "lookup"}, "call_x", "lookup", {"q": "x"}),
        ({"action": "lookup", "args": {"q": "x"}}, "call_x", "lookup", {"q": "x"}),
        ({"action": "lookup", "args": {"q": "other"}}, None, "lookup", {"q": "other"}),
        ({"question": "Go on?"}, None, INTERRUPT_TOOL_NAME, {"question": "Go on?"}),
        ("Go on?", None, INTERRUPT_TOOL_NAME, {"value": "Go on?"}),
    ],
)
async def test_which_call_an_interrupt_value_names(
    value: Any, call_id: str | None, name: str, args: Any
) -> None:
    graph = one_question_graph(value)
    config = {"configurable": {"thread_id": "t"}}
    chunks = await collect(
        create_run(lambda controller: stream_graph(controller, graph, question(), config))
    )
    [pending] = await pending_interrupts(graph, config)
    assert pending.for_tool_call is (call_id is not None)
    assert pending.tool_call_id == (call_id or f"interrupt_{pending.interrupt_id}")
    assert (pending.tool_name, pending.args, pending.value) == (name, args, value)
    [request] = [c for c in chunks if c.type == "tool-approval-request"]
    assert request.tool_call_id == pending.tool_call_id
    assert calls(accumulate(chunks))[pending.tool_call_id].args == args


async def test_without_a_checkpointer_the_request_is_shown_but_nothing_resumes() -> None:
    done: list[Any] = []
    graph = booking_graph(done)
    chunks = await collect(
        create_run(lambda controller: stream_graph(controller, graph, question()))
    )
    assert [(c.type, c.tool_call_id) for c in chunks if c.type == "tool-approval-request"] == [
        ("tool-approval-request", "call_book")
    ]
    answer = ToolAnswer(tool_call_id="call_book", kind="approval", approved=True)
    assert await pending_interrupts(graph, None) == []
    assert await resume_command(graph, [answer], None) is None


# -- resuming ----------------------------------------------------------------------------------


async def test_interrupts_one_after_another() -> None:
    """Two calls, one question each: approve the first, then deny the second."""
    thread = Thread("booking", calls=(("call_book", NOMA), ("call_2", {**NOMA, "people": 9})))
    first = await thread.chunks(question())
    assert [c.tool_call_id for c in first if c.type == "tool-approval-request"] == ["call_book"]

    approve = [ToolAnswer(tool_call_id="call_book", kind="approval", approved=True)]
    command = await resume_command(thread.graph, approve, thread.config)
    second = await thread.chunks(command)
    assert [c.tool_call_id for c in second if c.type == "tool-approval-request"] == ["call_2"]
    asked = calls(accumulate(second))["call_2"]  # a call of the first run, sent again
    assert (asked.tool_name, asked.args, asked.has_result) == (
        "book_table",
        {**NOMA, "people": 9},
        False,
    )

    deny = [ToolAnswer(tool_call_id="call_2", kind="approval", approved=False, reason="too many")]
    command = await resume_command(thread.graph, deny, thread.config)
    assert isinstance(command, Command)
    assert list(command.resume.values()) == [{"approved": False, "reason": "too many"}]
    chunks = await thread.chunks(command)
    third = accumulate(chunks)
    about_call_2 = [c.type for c in chunks if getattr(c, "tool_call_id", None) == "call_2"]
    assert about_call_2 == ["tool-output-denied"]  # its tool message is for the model only
    assert calls(third)["call_book"].result == BOOKED
    assert third.text == f"Outcome: {BOOKED} The user denied the booking: too many"
    assert thread.done == [NOMA] and await thread.pending() == []


async def test_a_request_answering_no_pending_interrupt_is_a_new_turn() -> None:
    thread = Thread("booking")
    await thread.chunks(question())
    other = [ToolAnswer(tool_call_id="call_other", kind="result", result={"approved": True})]
    assert await resume_command(thread.graph, other, thread.config) is None
    assert await resume_command(thread.graph, [], thread.config) is None


async def test_an_ag_ui_resume_payload_reaches_the_graph() -> None:
    thread = Thread("booking")
    await thread.chunks(question())
    body = ag_ui_body(
        "call_book", "book_table", NOMA, {"approved": True, "note": "window seat"}, "resolved"
    )
    command = await resume_command(
        thread.graph, parse_request(body, protocol="ag-ui"), thread.config
    )
    assert list(command.resume.values()) == [{"approved": True, "note": "window seat"}]


async def test_client_disconnect_cancels_the_resumed_graph() -> None:
    cancelled: list[bool] = []
    # The answer's chunks are far apart, so it is still running when the client goes away
    # (with 50 ms between them, a loaded machine could read the first one after the last).
    thread = Thread("booking", delay=0.5, cancelled=cancelled)
    await thread.chunks(question())
    answer = [ToolAnswer(tool_call_id="call_book", kind="approval", approved=True)]
    stream = thread.run(await resume_command(thread.graph, answer, thread.config))
    while (await asyncio.wait_for(stream.__anext__(), 5)).type != "text-delta":
        pass  # the call sent again, its result, then the model's answer starts
    started = asyncio.get_running_loop().time()
    await stream.aclose()
    assert cancelled == [True]
    assert asyncio.get_running_loop().time() - started < 1
    await asyncio.sleep(0)
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not [t for t in leftover if not t.done()], leftover


# -- every registered protocol -----------------------------------------------------------------

#: Encoder options a protocol needs to show approvals (ai 6+ has approval chunks).
APPROVAL_OPTIONS: dict[str, dict[str, Any]] = {"ui-message-stream": {"sdk_version": 7}}
#: Protocols whose wire form carries the approval request itself (elsewhere: an unanswered
#: call, or RAIS's note).
SHOWS_APPROVALS = {"ui-message-stream", "ag-ui"}


def make_encoder(protocol: str, **options: Any) -> Any:
    info = PROTOCOLS[protocol]
    accepted = inspect.signature(info.encoder).parameters
    chosen = {**info.demo_options, **APPROVAL_OPTIONS.get(protocol, {}), **options}
    return info.encoder(**{k: v for k, v in chosen.items() if k in accepted})


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def decode(protocol: str, body: bytes, strict: bool = True) -> Message:
    decoder = PROTOCOLS[protocol].decoder(strict=strict)
    return accumulate(await collect(decoder.decode_stream(_once(body))))


async def over_the_wire(protocol: str, stream: Any, **options: Any) -> Message:
    return await decode(protocol, await encode(make_encoder(protocol, **options), stream))


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
@pytest.mark.parametrize("kind", ["booking", "publish"])
async def test_every_registered_protocol_shows_the_approval_request(
    protocol: str, kind: str
) -> None:
    thread = Thread(kind)
    message = await over_the_wire(protocol, thread.run(question()))
    [pending] = await thread.pending()
    carries = PROTOCOLS[protocol].carries
    assert message.errors == []
    if "tool-calls" in carries:
        call = calls(message)[pending.tool_call_id]
        assert (call.tool_name, call.args, call.has_result) == (
            pending.tool_name,
            pending.args,
            False,
        )
        assert message.finish_reason == "tool-calls"
        shown = call.approval_id == pending.approval_id
        assert shown is (protocol in SHOWS_APPROVALS)
    else:
        assert APPROVAL_NOTE.format(name=pending.tool_name) in message.text


def ui_body(call_id: str, name: str, args: Any, approved: bool) -> dict[str, Any]:
    approval: dict[str, Any] = {"id": f"approval_{call_id}", "approved": approved}
    if not approved:
        approval["reason"] = "not today"
    part = {
        "type": f"tool-{name}",
        "toolCallId": call_id,
        "state": "approval-responded",
        "input": args,
        "approval": approval,
    }
    return {
        "id": "chat-1",
        "messages": [
            {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "Book it"}]},
            {"id": "a1", "role": "assistant", "parts": [{"type": "step-start"}, part]},
        ],
        "trigger": "submit-message",
        "messageId": "a1",
    }


def ag_ui_body(
    call_id: str, name: str, args: Any, payload: Any, status: str = "resolved"
) -> dict[str, Any]:
    function = {"name": name, "arguments": json.dumps(args)}
    return {
        "threadId": "thread-1",
        "runId": "run-2",
        "state": {},
        "messages": [
            {"id": "u1", "role": "user", "content": "Book it"},
            {
                "id": "a1",
                "role": "assistant",
                "toolCalls": [{"id": call_id, "type": "function", "function": function}],
            },
        ],
        "tools": [],
        "context": [],
        "forwardedProps": {},
        "resume": [{"interruptId": f"approval_{call_id}", "status": status, "payload": payload}],
    }


def answer_body(protocol: str, call_id: str, name: str, args: Any, approved: bool) -> Any:
    """The client's answer in ``protocol``'s own request shape (see requests.md)."""
    decision: dict[str, Any] = {"approved": approved}
    if not approved:
        decision["reason"] = "not today"
    if protocol == "ui-message-stream":
        return ui_body(call_id, name, args, approved)
    if protocol == "ag-ui":
        return ag_ui_body(call_id, name, args, decision)
    if protocol == "assistant-transport":  # the history lives on the server
        command = {"type": "add-tool-result", "toolCallId": call_id, "toolName": name}
        return {"commands": [{**command, "result": decision}], "state": {}}
    if protocol == "data-stream":  # assistant-ui's data stream runtime
        call = {"type": "tool-call", "toolCallId": call_id, "toolName": name, "input": args}
        result = {
            "type": "tool-result",
            "toolCallId": call_id,
            "toolName": name,
            "output": {"type": "json", "value": decision},
        }
        return {
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Book it"}]},
                {"role": "assistant", "content": [call]},
                {"role": "tool", "content": [result]},
                {"role": "assistant", "content": []},
            ],
            "tools": {},
        }
    assert protocol == "openai"
    openai_call = {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)},
    }
    return {
        "messages": [
            {"role": "user", "content": "Book it"},
            {"role": "assistant", "content": None, "tool_calls": [openai_call]},
            {"role": "tool", "tool_call_id": call_id, "content": json.dumps(decision)},
        ]
    }


#: Protocols whose clients hold the answered call: a continuation writes only its outcome
#: (``continued_tool_calls``).
CONTINUES = {"ui-message-stream", "ag-ui"}
#: Every protocol but RAIS, which has no way to answer (its clients see APPROVAL_NOTE).
ANSWERABLE = ["ui-message-stream", "ag-ui", "assistant-transport", "data-stream", "openai"]


def test_every_protocol_but_rais_can_answer() -> None:
    assert set(ANSWERABLE) == set(PROTOCOLS) - {"rais"}


@pytest.mark.parametrize("protocol", ANSWERABLE)
@pytest.mark.parametrize("kind", ["booking", "publish"])
@pytest.mark.parametrize("approved", [True, False], ids=["approve", "deny"])
async def test_every_protocol_resumes_the_graph(protocol: str, kind: str, approved: bool) -> None:
    thread = Thread(kind)
    await over_the_wire(protocol, thread.run(question()))
    [pending] = await thread.pending()
    body = answer_body(protocol, pending.tool_call_id, pending.tool_name, pending.args, approved)
    request = parse_request(body, protocol=protocol)
    command = await resume_command(thread.graph, request, thread.config)
    assert isinstance(command, Command)
    continued = [answer.tool_call_id for answer in request.answers]
    options = {"message_id": request.message_id, "continued_tool_calls": continued}
    body = await encode(make_encoder(protocol, **options), thread.run(command))
    # (A continuation answers a call the client holds from the first run, which a decoder
    # reading this stream alone does not know: lenient mode leaves that to the events.)
    message = await decode(protocol, body, strict=protocol not in CONTINUES)
    assert message.errors == [] and await thread.pending() == []
    carries = PROTOCOLS[protocol].carries
    if kind == "booking":
        expected = BOOKED if approved else "The user denied the booking: not today"
        assert message.text == f"Outcome: {expected}"
        assert thread.done == ([NOMA] if approved else [])
    else:
        assert message.text == ("Published." if approved else "Not published.")
        assert thread.done == (["draft"] if approved else [])
    result = BOOKED if kind == "booking" else {"approved": True}
    if protocol in CONTINUES:  # the client holds the call: only its outcome is written
        events = [
            json.loads(line[6:]) for line in body.decode().split("\n") if line[:7] == "data: {"
        ]
        outcomes = [
            e
            for e in events
            if e["type"] in ("tool-output-available", "tool-output-denied", "TOOL_CALL_RESULT")
        ]
        if not approved and protocol == "ag-ui":  # no denied state: the call's error result
            [outcome] = outcomes
            assert outcome["toolCallId"] == pending.tool_call_id
            assert outcome["content"] == denial_text("not today")
            assert outcome["metadata"]["isError"] is True
        elif not approved:
            assert outcomes == [{"type": "tool-output-denied", "toolCallId": pending.tool_call_id}]
        elif protocol == "ag-ui":
            [outcome] = outcomes
            content = outcome["content"]
            json_content = outcome.get("metadata", {}).get("contentType") == "application/json"
            assert outcome["toolCallId"] == pending.tool_call_id
            assert (json.loads(content) if json_content else content) == result
        else:
            assert outcomes == [
                {
                    "type": "tool-output-available",
                    "toolCallId": pending.tool_call_id,
                    "output": result,
                }
            ]
    elif "tool-results" in carries:
        call = calls(message).get(pending.tool_call_id)
        if approved:
            assert call is not None and call.has_result and call.result == result
        else:  # the denial is the outcome: no result is sent for the call
            assert call is None or not call.has_result
