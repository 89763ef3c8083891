"""History: finished messages as a conversation, and a conversation in each frontend's shape.

The conversation is kept in one shape, the OpenAI chat messages `run_provider` takes and
returns and `ChatRequest.messages` holds. `message_to_history` turns an accumulated assistant
`Message` into it; `to_ui_messages`, `to_data_stream_messages`, `to_ag_ui_messages` and
`to_rais_messages` turn it
into what a frontend shows as its initial messages, such that `parse_request` of a request
carrying them gives the same conversation back. `HistoryStore` keeps conversations by thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .accumulator import Message, TextPart, ToolCallPart

__all__ = [
    "HistoryStore",
    "message_to_history",
    "to_ag_ui_messages",
    "to_data_stream_messages",
    "to_rais_messages",
    "to_ui_messages",
]


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _value(text: Any) -> Any:
    """A tool message's content as a JSON object or array when it is one in compact JSON text,
    else as is."""
    if not isinstance(text, str):
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    # only objects and arrays: a number or word stays the text it was (a browser would read
    # 20000000000000000000 as 2e+19)
    return value if isinstance(value, (dict, list)) and _compact(value) == text else text


def _arguments(text: Any) -> Any:
    if isinstance(text, Mapping):
        return dict(text)
    try:
        return json.loads(text) if isinstance(text, str) and text.strip() else {}
    except ValueError:
        return {}


def message_to_history(message: Message) -> list[dict[str, Any]]:
    """An accumulated assistant message as OpenAI chat messages.

    Each model turn becomes an assistant message (its text and ``tool_calls``) followed by one
    ``tool`` message per answered call; a new turn starts where text follows answered calls.
    Calls without a result (left for the client) are left out, as `ChatRequest` does.
    Reasoning, sources and files are not model input and are not kept.
    """
    out: list[dict[str, Any]] = []
    texts: list[str] = []
    calls: list[ToolCallPart] = []

    def flush() -> None:
        if texts or calls:
            turn: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
            if calls:
                turn["tool_calls"] = [
                    {
                        "id": call.tool_call_id,
                        "type": "function",
                        "function": {"name": call.tool_name, "arguments": call.args_text or "{}"},
                    }
                    for call in calls
                ]
            out.append(turn)
            for call in calls:
                result = call.result
                tool: dict[str, Any] = {
                    "role": "tool",
                    "tool_call_id": call.tool_call_id,
                    "content": result if isinstance(result, str) else _compact(result),
                }
                if call.is_error:
                    tool["is_error"] = True
                out.append(tool)
        texts.clear()
        calls.clear()

    for part in message.parts:
        if isinstance(part, TextPart):
            if calls:
                flush()
            texts.append(part.text)
        elif isinstance(part, ToolCallPart) and part.has_result:
            calls.append(part)
    flush()
    return [turn for turn in out if turn.get("content") is not None or turn.get("tool_calls")]


def _turns(history: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """Messages grouped so that an assistant message and the tool messages after it (and any
    assistant messages following those) form one group."""
    groups: list[list[Mapping[str, Any]]] = []
    for message in history:
        role = message.get("role")
        if role in ("assistant", "tool") and groups and groups[-1][0].get("role") == "assistant":
            groups[-1].append(message)
        else:
            groups.append([message])
    return groups


def _text_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    parts: list[dict[str, Any]] = []
    for part in content or ():
        if part.get("type") == "text":
            parts.append({"type": "text", "text": part.get("text", "")})
        elif part.get("type") == "image_url":
            image = part.get("image_url") or {}
            url = image.get("url", "") if isinstance(image, Mapping) else str(image)
            media = url[5:].split(";", 1)[0] if url.startswith("data:") else "image/*"
            parts.append({"type": "file", "mediaType": media, "url": url})
    return parts


def to_ui_messages(
    history: Sequence[Mapping[str, Any]], *, id_prefix: str = "msg"
) -> list[dict[str, Any]]:
    """The conversation as ``UIMessage`` objects (``useChat``'s initial ``messages``).

    An assistant message and the tool results after it become one UI message with a
    ``step-start`` part per model turn and one ``tool-<name>`` part per call
    (``output-available``, or ``output-error`` for an error result).
    """
    out: list[dict[str, Any]] = []
    for index, group in enumerate(_turns(history)):
        first = group[0]
        role = first.get("role")
        message_id = f"{id_prefix}-{index}"
        if role != "assistant":
            ui_role = "system" if role in ("system", "developer") else "user"
            out.append(
                {"id": message_id, "role": ui_role, "parts": _text_parts(first.get("content"))}
            )
            continue
        results = {m.get("tool_call_id"): m for m in group if m.get("role") == "tool"}
        parts: list[dict[str, Any]] = []
        for turn in group:
            if turn.get("role") != "assistant":
                continue
            parts.append({"type": "step-start"})
            content = turn.get("content")
            if content:
                parts.extend(_text_parts(content))
            for call in turn.get("tool_calls") or ():
                function = call.get("function") or {}
                result = results.get(call.get("id"))
                part: dict[str, Any] = {
                    "type": f"tool-{function.get('name', 'unknown')}",
                    "toolCallId": call.get("id"),
                    "input": _arguments(function.get("arguments")),
                }
                if result is None:
                    part["state"] = "input-available"
                elif result.get("is_error"):
                    part["state"] = "output-error"
                    part["errorText"] = str(result.get("content", ""))
                else:
                    part["state"] = "output-available"
                    part["output"] = _value(result.get("content"))
                parts.append(part)
        out.append({"id": message_id, "role": "assistant", "parts": parts})
    return out


def to_data_stream_messages(history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as the language-model messages assistant-ui's data stream runtime
    sends (``tool-call`` parts with ``input``, ``tool-result`` parts with ``output``)."""
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for message in history:
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            text = content if isinstance(content, str) else ""
            out.append({"role": "system", "content": text})
        elif role == "tool":
            call_id = str(message.get("tool_call_id"))
            kind = "error-json" if message.get("is_error") else "json"
            result = {
                "type": "tool-result",
                "toolCallId": call_id,
                "toolName": names.get(call_id, ""),
                "output": {"type": kind, "value": _value(content)},
            }
            if out and out[-1]["role"] == "tool":
                out[-1]["content"].append(result)
            else:
                out.append({"role": "tool", "content": [result]})
        else:
            parts: list[dict[str, Any]] = []
            if content:
                for part in _text_parts(content):
                    if part["type"] == "file":
                        parts.append(
                            {"type": "file", "data": part["url"], "mediaType": part["mediaType"]}
                        )
                    else:
                        parts.append(part)
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                names[str(call.get("id"))] = str(function.get("name"))
                parts.append(
                    {
                        "type": "tool-call",
                        "toolCallId": call.get("id"),
                        "toolName": function.get("name"),
                        "input": _arguments(function.get("arguments")),
                    }
                )
            out.append({"role": role, "content": parts})
    return out


def to_ag_ui_messages(
    history: Sequence[Mapping[str, Any]], *, id_prefix: str = "msg"
) -> list[dict[str, Any]]:
    """The conversation as AG-UI messages (an ``HttpAgent``'s ``initialMessages``, or a
    ``MESSAGES_SNAPSHOT``'s ``messages``): camelCase, ``toolCalls`` with JSON-string
    arguments, tool results as ``tool`` messages (an error result in ``error``)."""
    out: list[dict[str, Any]] = []
    for index, message in enumerate(history):
        role = str(message.get("role"))
        converted: dict[str, Any] = {"id": f"{id_prefix}-{index}", "role": role}
        content = message.get("content")
        if role == "tool":
            converted["toolCallId"] = message.get("tool_call_id")
            if message.get("is_error"):
                converted["content"] = ""
                converted["error"] = content if isinstance(content, str) else _compact(content)
            else:
                converted["content"] = content if isinstance(content, str) else _compact(content)
        elif role == "user" and not isinstance(content, str):
            converted["content"] = [
                {"type": "text", "text": part["text"]}
                if part["type"] == "text"
                else {"type": "image", "source": {"type": "url", "value": part["url"]}}
                for part in _text_parts(content)
            ]
        else:
            if content is not None or role != "assistant":
                converted["content"] = content if isinstance(content, str) else ""
            calls = message.get("tool_calls")
            if calls:
                converted["toolCalls"] = [
                    {
                        "id": call.get("id"),
                        "type": "function",
                        "function": {
                            "name": (call.get("function") or {}).get("name"),
                            "arguments": _arguments_text(
                                (call.get("function") or {}).get("arguments")
                            ),
                        },
                    }
                    for call in calls
                ]
        out.append(converted)
    return out


def _arguments_text(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    return _compact(arguments if arguments is not None else {})


def to_rais_messages(history: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The conversation as RAIS ``{role, content}`` messages (text only: RAIS v1 has no tools;
    tool calls and results are left out, as are turns without text)."""
    out: list[dict[str, str]] = []
    for message in history:
        role = message.get("role")
        if role == "tool":
            continue
        content = message.get("content")
        text = (
            content
            if isinstance(content, str)
            else "".join(
                part.get("text", "") for part in content or () if part.get("type") == "text"
            )
        )
        if text:
            out.append({"role": "system" if role == "developer" else str(role), "content": text})
    return out


class HistoryStore:
    """Conversations by thread id, in memory (a starting point; any store with ``load`` and
    ``save`` works the same). Values are copied in and out."""

    def __init__(self) -> None:
        self._threads: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def load(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's conversation (empty for an unknown thread)."""
        with self._lock:
            return json.loads(json.dumps(self._threads.get(thread_id, [])))  # type: ignore[no-any-return]

    def save(self, thread_id: str, messages: Iterable[Mapping[str, Any]]) -> None:
        """Replace the thread's conversation."""
        copied = json.loads(json.dumps(list(messages), default=str))
        with self._lock:
            self._threads[thread_id] = copied

    def append(self, thread_id: str, messages: Iterable[Mapping[str, Any]]) -> None:
        """Add messages at the end of the thread's conversation."""
        copied = json.loads(json.dumps(list(messages), default=str))
        with self._lock:
            self._threads.setdefault(thread_id, []).extend(copied)
