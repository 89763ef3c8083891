"""LangGraph: mirror a graph's streamed messages and updates into the run state.

`append_langgraph_event` takes what ``graph.astream(..., stream_mode=["messages", "updates"])``
yields and writes it into a state (``controller.state`` or a plain dict): message chunks are
merged by id into ``state["messages"]`` as small operations (appended text is sent as
``append-text``, never as the whole message again); ``updates`` copy each node's channels,
except ``messages``, onto the state. Needs ``langchain-core`` (extra ``[langgraph]``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

import orjson
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import AIMessageChunk, add_ai_message_chunks
from langchain_core.messages.tool import ToolMessage

from ..create_run import RunController
from ..state import StateProxy
from .tool_call import ToolCallController, generate_openai_style_tool_call_id

__all__ = ["append_langgraph_event", "get_tool_call_subgraph_state", "stream_graph"]

SubgraphNode = Union[str, list[str], Callable[[list[str]], bool]]


def _plain(value: Any) -> Any:
    """The plain value behind a state proxy (anything else as it is)."""
    if isinstance(value, StateProxy):
        return value._assistant_stream_value_()
    return value


def _same_message(existing: Any, message: dict[str, Any]) -> bool:
    if not isinstance(existing, dict):
        return False
    message_id = message.get("id")
    if message_id is not None and existing.get("id") == message_id:
        return True
    tool_call_id = message.get("tool_call_id")
    return tool_call_id is not None and existing.get("tool_call_id") == tool_call_id


def _find_message(messages: Any, message: dict[str, Any]) -> int | None:
    for index, existing in enumerate(_plain(messages)):
        if _same_message(existing, message):
            return index
    return None


def _only_grows(current: Any, new: Any) -> bool:
    """True if ``new`` keeps every key and list item of ``current`` (so it can be patched)."""
    if current == new:
        return True
    if isinstance(current, dict) and isinstance(new, dict):
        return all(key in new and _only_grows(value, new[key]) for key, value in current.items())
    if isinstance(current, list) and isinstance(new, list):
        return len(current) <= len(new) and all(
            _only_grows(item, new[index]) for index, item in enumerate(current)
        )
    return True


def _patch(parent: Any, key: Any, new: Any) -> None:
    """Write ``new`` at ``parent[key]``, touching only what changed.

    Through a state proxy each write is one operation: new keys and list items are ``set``,
    a string that grew becomes ``append-text``. Call only where `_only_grows` holds.
    """
    current = _plain(parent[key])
    if current == new:
        return
    if isinstance(current, dict) and isinstance(new, dict):
        target = parent[key]
        for child_key, value in new.items():
            if child_key in current:
                _patch(target, child_key, value)
            else:
                target[child_key] = value
    elif isinstance(current, list) and isinstance(new, list):
        target = parent[key]
        for index, value in enumerate(new):
            if index < len(current):
                _patch(target, index, value)
            else:
                target.append(value)
    else:
        parent[key] = new


def _merge_chunk(existing: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = add_ai_message_chunks(
        AIMessageChunk(**{**existing, "type": "AIMessageChunk"}),
        AIMessageChunk(**{**update, "type": "AIMessageChunk"}),
    ).model_dump()
    merged["type"] = "ai"
    return merged


def append_langgraph_event(state: Any, _namespace: Any, type: str, payload: Any) -> None:
    """Write one LangGraph stream event into ``state``.

    ``type`` is the stream mode: ``"messages"`` (``payload`` is ``(message, metadata)``) or
    ``"updates"`` (``payload`` maps node names to the channels they wrote). Other types are
    ignored. ``_namespace`` is accepted for the subgraph namespace and not used.
    """
    if type == "messages":
        if "messages" not in state:
            state["messages"] = []
        messages = state["messages"]
        message = payload[0].model_dump()
        is_chunk = message.get("type") == "AIMessageChunk"
        if is_chunk:
            message["type"] = "ai"
        index = _find_message(messages, message)
        if index is None:
            messages.append(message)
        elif is_chunk:
            merged = _merge_chunk(_plain(messages[index]), message)
            if _only_grows(_plain(messages[index]), merged):
                _patch(messages, index, merged)
            else:
                messages[index] = merged
        else:
            messages[index] = message
    elif type == "updates":
        for channels in payload.values():
            if not isinstance(channels, dict):
                continue
            for channel, value in channels.items():
                if channel != "messages":
                    state[channel] = value


def _matches(name: str, wanted: str | list[str] | None) -> bool:
    if wanted is None:
        return True
    if isinstance(wanted, str):
        return name == wanted
    return name in wanted


def get_tool_call_subgraph_state(
    controller: RunController,
    namespace: Sequence[str],
    subgraph_node: SubgraphNode,
    default_state: dict[str, Any],
    *,
    artifact_field_name: str | None = None,
    tool_name: str | list[str] | None = None,
) -> Any:
    """The state a subgraph run inside a tool call should write to.

    Walks ``namespace`` (``"node:task_id"`` parts); at the first part whose node is
    ``subgraph_node`` (a name, a list of names or a predicate on ``[name]``), makes sure the
    last message is the `ToolMessage` answering the last tool call (creating it when the last
    message is an AI message calling a matching ``tool_name``) and returns its artifact, or the
    artifact's ``artifact_field_name`` entry, created from ``default_state`` if missing.
    Otherwise returns the run state (set to ``default_state`` if it was None). Writes through
    the returned value stream to the client like any state write.
    """

    def is_subgraph_node(name: str) -> bool:
        if callable(subgraph_node):
            return bool(subgraph_node([name]))
        return _matches(name, subgraph_node)

    if controller.state is None:
        controller.state = default_state
    state = controller.state
    for part in namespace:
        if not is_subgraph_node(part.split(":")[0]):
            continue
        if "messages" not in state:
            return state
        messages = state["messages"]
        if not messages:
            return state
        last = len(messages) - 1
        last_message = messages[last]
        if last_message["type"] == "ai":
            tool_calls = last_message.get("tool_calls") or []
            if not tool_calls:
                return state
            tool_call = tool_calls[len(tool_calls) - 1]
            if not _matches(tool_call["name"], tool_name):
                return state
            messages.append(
                ToolMessage(
                    tool_call_id=tool_call["id"],
                    name=tool_call["name"],
                    artifact={} if artifact_field_name else default_state,
                    content="",
                    additional_kwargs={"streaming": True},
                ).model_dump()
            )
            last += 1
            last_message = messages[last]
        if last_message["type"] == "tool":
            if "artifact" not in last_message or last_message["artifact"] is None:
                last_message["artifact"] = {} if artifact_field_name else default_state
            artifact = last_message["artifact"]
            if not artifact_field_name:
                return artifact
            if artifact_field_name not in artifact:
                artifact[artifact_field_name] = default_state
            return artifact[artifact_field_name]
    return state


# -- a compiled graph, streamed into a run -----------------------------------------------------

_FINISH_REASONS = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "max_tokens": "length",
    "content_filter": "content-filter",
    "tool_calls": "tool-calls",
    "tool_use": "tool-calls",
    "function_call": "tool-calls",
}


def _content_pieces(message: BaseMessage) -> list[tuple[str, str]]:
    """("text" | "reasoning", text) pieces of a message's content, in order.

    Reads plain string content and content blocks (``text``; ``reasoning`` with ``reasoning``
    or a ``summary`` list; Anthropic ``thinking``), then ``additional_kwargs.reasoning_content``.
    Tool-use blocks are left to the message's tool call chunks.
    """
    pieces: list[tuple[str, str]] = []
    reasoning = message.additional_kwargs.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        pieces.append(("reasoning", reasoning))
    content = message.content
    blocks: list[Any] = [content] if isinstance(content, str) else list(content)
    for block in blocks:
        if isinstance(block, str):
            pieces.append(("text", block))
        elif isinstance(block, dict):
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                pieces.append(("text", block["text"]))
            elif kind == "thinking" and isinstance(block.get("thinking"), str):
                pieces.append(("reasoning", block["thinking"]))
            elif kind == "reasoning":
                if isinstance(block.get("reasoning"), str):
                    pieces.append(("reasoning", block["reasoning"]))
                for item in block.get("summary") or ():
                    if isinstance(item, dict) and isinstance(item.get("text"), str):
                        pieces.append(("reasoning", item["text"]))
    return [(kind, text) for kind, text in pieces if text]


class _GraphStream:
    """Maps one graph run's ``(namespace, mode, payload)`` events onto a run controller."""

    def __init__(self, controller: RunController) -> None:
        self.controller = controller
        self.tools: dict[str, ToolCallController] = {}
        self.tool_ids: dict[tuple[Any, Any], str] = {}  # (message id, chunk index) → call id
        self.streamed: set[str] = set()  # ids of AI messages already sent
        self.message: tuple[Any, ...] | None = None  # (namespace, message id) being streamed
        self.message_tools: list[ToolCallController] = []
        self.finish_reason: str | None = None
        self.usage = [0, 0]

    def text_only(self, namespace: tuple[str, ...], payload: Any) -> bool:
        """The per-token fast path: a plain text chunk of the message being streamed.

        Returns False (nothing done) for anything else, which then goes through `handle`.
        """
        message, metadata = payload
        if (
            message.__class__ is not AIMessageChunk
            or self.message is None
            or self.message[1] != message.id
            or self.message[0] != namespace
            or message.tool_call_chunks
            or message.usage_metadata
            or message.additional_kwargs
            or message.chunk_position is not None
        ):
            return False
        content = message.content
        if content.__class__ is not str:
            return False
        response_metadata = message.response_metadata
        if response_metadata and (
            "finish_reason" in response_metadata or "stop_reason" in response_metadata
        ):
            return False
        tags = metadata.get("tags") if metadata else None
        if tags and ("nostream" in tags or "langsmith:nostream" in tags):
            return True
        if content:
            self.controller.append_text(content)
        return True

    async def handle(self, namespace: tuple[str, ...], mode: str, payload: Any) -> None:
        if mode == "messages":
            message, metadata = payload
            tags = (metadata or {}).get("tags") or ()
            if "nostream" in tags or "langsmith:nostream" in tags:
                return
            if isinstance(message, AIMessage):
                await self._ai_message(namespace, message)
            elif isinstance(message, ToolMessage):
                self._tool_message(message)
        elif mode == "updates":
            self.end_message()  # a node finished: its model call (if any) is over
        elif mode == "custom":
            self.controller.add_data(payload)

    async def _ai_message(self, namespace: tuple[str, ...], message: AIMessage) -> None:
        message_id = message.id
        is_chunk = isinstance(message, AIMessageChunk)
        if not is_chunk and message_id is not None and message_id in self.streamed:
            return  # a node returned a message whose tokens were already streamed
        key = (namespace, message_id)
        if self.message != key:
            self.end_message()
            self.message = key
            if message_id is not None:
                self.streamed.add(message_id)
            self.controller.add_step_start(
                message_id or "msg_" + generate_openai_style_tool_call_id()[5:]
            )
        controller = self.controller
        for kind, text in _content_pieces(message):
            if kind == "text":
                controller.append_text(text)
            else:
                controller.append_reasoning(text)
        if isinstance(message, AIMessageChunk):
            for chunk in message.tool_call_chunks:
                await self._tool_call_chunk(message_id, chunk)
        else:
            for call in message.tool_calls:
                tool = await self._begin_tool(call.get("id"), call["name"])
                tool.append_args_text(orjson.dumps(call["args"]).decode())
        usage = message.usage_metadata
        if usage:
            self.usage[0] += usage.get("input_tokens", 0)
            self.usage[1] += usage.get("output_tokens", 0)
        metadata = message.response_metadata
        reason = metadata.get("finish_reason") or metadata.get("stop_reason")
        if isinstance(reason, str):
            self.finish_reason = _FINISH_REASONS.get(reason, "other")
        if not is_chunk or getattr(message, "chunk_position", None) == "last":
            self.end_message()

    async def _begin_tool(self, tool_call_id: str | None, name: str | None) -> ToolCallController:
        tool = await self.controller.add_tool_call(name or "", tool_call_id)
        self.tools[tool.tool_call_id] = tool
        self.message_tools.append(tool)
        return tool

    async def _tool_call_chunk(self, message_id: Any, chunk: Any) -> None:
        index = chunk.get("index")
        key = (message_id, index if index is not None else chunk.get("id"))
        tool_call_id = self.tool_ids.get(key)
        if tool_call_id is None:
            tool = await self._begin_tool(chunk.get("id"), chunk.get("name"))
            self.tool_ids[key] = tool.tool_call_id
        else:
            tool = self.tools[tool_call_id]
        tool.append_args_text(chunk.get("args") or "")

    def _tool_message(self, message: ToolMessage) -> None:
        result = message.content
        tool = self.tools.get(message.tool_call_id)
        if tool is None:
            self.controller.add_tool_result(message.tool_call_id, result)
            return
        tool.set_response(result, artifact=message.artifact, is_error=message.status == "error")

    def end_message(self) -> None:
        """Close the streamed message: its tool calls' arguments, then its step."""
        if self.message is None:
            return
        for tool in self.message_tools:
            tool.close()
        reason = self.finish_reason or ("tool-calls" if self.message_tools else "stop")
        self.controller.add_step_finish(reason, self.usage[0], self.usage[1])
        self.message = None
        self.message_tools = []
        self.finish_reason = None
        self.usage = [0, 0]


async def stream_graph(
    controller: RunController,
    graph: Any,
    input: Any,
    config: Any | None = None,
    *,
    subgraphs: bool = True,
    **kwargs: Any,
) -> None:
    """Stream a compiled LangGraph graph's run into ``controller``, in any protocol.

    Runs ``graph.astream(input, config, stream_mode=["messages", "updates", "custom"],
    subgraphs=subgraphs, **kwargs)`` and maps it: AI message chunks become text and reasoning
    (string content, content blocks, ``reasoning_content``), tool call chunks become tool calls
    with streamed arguments, ``ToolMessage``s their results, ``custom`` events data, and each
    model call a step (with its finish reason and token usage). Calls tagged ``nostream`` are
    left out. When the run is cancelled (the client went away) the graph run is closed.
    """
    mapper = _GraphStream(controller)
    stream = graph.astream(
        input,
        config,
        stream_mode=["messages", "updates", "custom"],
        subgraphs=subgraphs,
        **kwargs,
    )
    try:
        async for event in stream:
            if subgraphs:
                namespace, mode, payload = event
            else:
                (mode, payload), namespace = event, ()
            if mode != "messages" or not mapper.text_only(namespace, payload):
                await mapper.handle(tuple(namespace), mode, payload)
            if controller.is_cancelled:
                break
        mapper.end_message()
    finally:
        await stream.aclose()
