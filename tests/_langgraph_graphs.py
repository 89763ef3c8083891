"""Graphs for the LangGraph adapter tests, driven by a scripted chat model (no network).

`ScriptedChatModel` is a real langchain-core `BaseChatModel`: it streams prepared
`AIMessageChunk`s (text, reasoning blocks, tool call chunks, usage), one list per turn, the
turn chosen by how many AI messages the conversation already holds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.tools import tool
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import interrupt
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    """Streams ``turns[n]`` where n is the number of AI messages in the input."""

    turns: list[list[AIMessageChunk]]
    delay: float = 0.0
    cancelled: list[bool] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        return self

    def _turn(self, messages: list[BaseMessage]) -> list[AIMessageChunk]:
        return self.turns[sum(isinstance(m, AIMessage) for m in messages)]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        chunks = self._turn(messages)
        merged = chunks[0]
        for chunk in chunks[1:]:
            merged = merged + chunk
        message = AIMessage(**{k: v for k, v in merged.model_dump().items() if k != "type"})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        raise NotImplementedError("stream asynchronously")

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        try:
            for chunk in self._turn(messages):
                if self.delay:
                    await asyncio.sleep(self.delay)
                generation = ChatGenerationChunk(message=chunk.model_copy())
                if run_manager:
                    await run_manager.on_llm_new_token(chunk.text, chunk=generation)
                yield generation
        except asyncio.CancelledError:
            self.cancelled.append(True)
            raise


def text_chunks(message_id: str, *pieces: str, usage: tuple[int, int] = (0, 0)) -> list[Any]:
    chunks = [AIMessageChunk(id=message_id, content=piece) for piece in pieces]
    chunks.append(
        AIMessageChunk(
            id=message_id,
            content="",
            usage_metadata={
                "input_tokens": usage[0],
                "output_tokens": usage[1],
                "total_tokens": sum(usage),
            },
            response_metadata={"finish_reason": "stop"},
            chunk_position="last",
        )
    )
    return chunks


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@tool
def get_time(zone: str) -> str:
    """The time in a zone."""
    return f"12:00 {zone}"


def react_turns() -> list[list[AIMessageChunk]]:
    """Reasoning, text and two tool calls streamed interleaved, then an answer."""
    first = [
        AIMessageChunk(id="ai-1", content=[{"type": "reasoning", "reasoning": "Need weather "}]),
        AIMessageChunk(id="ai-1", content=[{"type": "reasoning", "reasoning": "and time."}]),
        AIMessageChunk(id="ai-1", content="Let me check. "),
        AIMessageChunk(
            id="ai-1",
            content="",
            tool_call_chunks=[{"name": "get_weather", "args": '{"ci', "id": "call_w", "index": 0}],
        ),
        AIMessageChunk(
            id="ai-1",
            content="",
            tool_call_chunks=[
                {"name": "get_time", "args": '{"zone": "UTC"}', "id": "call_t", "index": 1}
            ],
        ),
        AIMessageChunk(
            id="ai-1",
            content="",
            tool_call_chunks=[{"name": None, "args": 'ty": "Oslo"}', "id": None, "index": 0}],
        ),
        AIMessageChunk(
            id="ai-1",
            content="",
            usage_metadata={"input_tokens": 3, "output_tokens": 7, "total_tokens": 10},
            response_metadata={"finish_reason": "tool_calls"},
            chunk_position="last",
        ),
    ]
    return [first, text_chunks("ai-2", "It is ", "sunny at noon.", usage=(20, 5))]


def react_graph(model: ScriptedChatModel | None = None) -> Any:
    """agent ⇄ tools (two tools), the classic ReAct loop."""
    model = model or ScriptedChatModel(turns=react_turns())

    async def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([get_weather, get_time]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile()


def subgraph_graph() -> Any:
    """A parent whose "research" node is a compiled subgraph streaming its own model call;
    the parent also writes custom events and makes an internal ``nostream`` model call."""
    inner_model = ScriptedChatModel(turns=[text_chunks("ai-inner", "Found ", "three papers.")])
    hidden_model = ScriptedChatModel(turns=[text_chunks("ai-hidden", "SECRET ", "ROUTING")])
    outer_model = ScriptedChatModel(
        turns=[[], [], text_chunks("ai-outer", "Summary: ", "three.", usage=(9, 2))]
    )

    async def search(state: MessagesState) -> dict[str, Any]:
        get_stream_writer()({"progress": "searching"})
        return {"messages": [await inner_model.ainvoke(state["messages"])]}

    inner = StateGraph(MessagesState)
    inner.add_node("search", search)
    inner.add_edge(START, "search")
    inner.add_edge("search", END)

    async def route(state: MessagesState) -> dict[str, Any]:
        await hidden_model.with_config(tags=["nostream"]).ainvoke(state["messages"])
        return {}

    async def answer(state: MessagesState) -> dict[str, Any]:
        placeholder = AIMessage(content="", id="ai-placeholder")
        return {"messages": [await outer_model.ainvoke([*state["messages"], placeholder])]}

    outer = StateGraph(MessagesState)
    outer.add_node("route", route)
    outer.add_node("research", inner.compile())
    outer.add_node("answer", answer)
    outer.add_edge(START, "route")
    outer.add_edge("route", "research")
    outer.add_edge("research", "answer")
    outer.add_edge("answer", END)
    return outer.compile()


def question(text: str = "Weather and time in Oslo?") -> dict[str, Any]:
    return {"messages": [HumanMessage(content=text, id="h-1")]}


# -- graphs that interrupt for a person's approval ----------------------------------------------

#: The booking the planner asks for (the arguments of call_book).
NOMA = {"restaurant": "Noma", "people": 2}


def booking_turn(*calls: tuple[str, dict[str, Any]]) -> list[AIMessageChunk]:
    """Text, then ``book_table`` calls with their arguments streamed in two pieces each."""
    chunks = [AIMessageChunk(id="ai-plan", content="Let me book that. ")]
    for index, (call_id, args) in enumerate(calls):
        text = json.dumps(args)
        for piece, first in ((text[:10], True), (text[10:], False)):
            chunks.append(
                AIMessageChunk(
                    id="ai-plan",
                    content="",
                    tool_call_chunks=[
                        {
                            "name": "book_table" if first else None,
                            "args": piece,
                            "id": call_id if first else None,
                            "index": index,
                        }
                    ],
                )
            )
    chunks.append(
        AIMessageChunk(
            id="ai-plan",
            content="",
            response_metadata={"finish_reason": "tool_calls"},
            chunk_position="last",
        )
    )
    return chunks


def booking_graph(
    booked: list[dict[str, Any]],
    *,
    calls: tuple[tuple[str, dict[str, Any]], ...] = (("call_book", NOMA),),
    delay: float = 0.0,
    cancelled: list[bool] | None = None,
    checkpointer: Any = None,
) -> Any:
    """agent → tools → agent. The tool node asks ``interrupt({"action", "args"})`` about each
    call (one after another) before it books; the agent then streams ``Outcome: <results>``
    (``delay`` between its chunks; ``cancelled`` gets True if that answer is cancelled)."""
    planner = ScriptedChatModel(turns=[booking_turn(*calls)])
    cancelled = cancelled if cancelled is not None else []

    async def agent(state: MessagesState) -> dict[str, Any]:
        last = state["messages"][-1]
        if isinstance(last, ToolMessage):
            outcome = " ".join(str(m.content) for m in state["messages"] if m.type == "tool")
            model = ScriptedChatModel(
                turns=[[], text_chunks("ai-outcome", "Outcome: ", outcome)], delay=delay
            )
            try:
                return {"messages": [await model.ainvoke(state["messages"])]}
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
        return {"messages": [await planner.ainvoke(state["messages"])]}

    def tools(state: MessagesState) -> dict[str, Any]:
        call_message = next(m for m in reversed(state["messages"]) if isinstance(m, AIMessage))
        # Every decision first: the node runs again from its start on each resume.
        calls = call_message.tool_calls
        decisions = [interrupt({"action": c["name"], "args": c["args"]}) for c in calls]
        results: list[ToolMessage] = []
        for call, decision in zip(calls, decisions, strict=True):
            args = call["args"]
            if isinstance(decision, dict) and decision.get("approved") is True:
                booked.append(args)
                content = f"Booked a table for {args['people']} at {args['restaurant']}."
            else:
                reason = decision.get("reason") if isinstance(decision, dict) else None
                content = "The user denied the booking" + (f": {reason}" if reason else ".")
            results.append(ToolMessage(content, tool_call_id=call["id"], name=call["name"]))
        return {"messages": results}

    def route(state: MessagesState) -> str:
        last = state["messages"][-1]
        return "tools" if isinstance(last, AIMessage) and last.tool_calls else END

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", tools)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", route, ["tools", END])
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=checkpointer)


def publish_graph(published: list[str], *, checkpointer: Any = None) -> Any:
    """draft → review: the review node asks ``interrupt("Publish the draft?")`` (a question
    about no tool call) and answers with whether it published."""

    def draft(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("Draft ready.", id="ai-draft")]}

    def review(state: MessagesState) -> dict[str, Any]:
        decision = interrupt("Publish the draft?")
        if isinstance(decision, dict) and decision.get("approved") is True:
            published.append("draft")
            return {"messages": [AIMessage("Published.", id="ai-published")]}
        return {"messages": [AIMessage("Not published.", id="ai-kept")]}

    graph = StateGraph(MessagesState)
    graph.add_node("draft", draft)
    graph.add_node("review", review)
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "review")
    graph.add_edge("review", END)
    return graph.compile(checkpointer=checkpointer)


def inside_a_parent(subgraph: Any, *, checkpointer: Any = None) -> Any:
    """A parent graph whose only node is ``subgraph`` (its interrupts surface at the root)."""
    parent = StateGraph(MessagesState)
    parent.add_node("booking", subgraph)
    parent.add_edge(START, "booking")
    parent.add_edge("booking", END)
    return parent.compile(checkpointer=checkpointer)
