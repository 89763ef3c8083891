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

from langchain_core.messages.ai import AIMessageChunk, add_ai_message_chunks
from langchain_core.messages.tool import ToolMessage

from ..create_run import RunController
from ..state import StateProxy

__all__ = ["append_langgraph_event", "get_tool_call_subgraph_state"]

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
