"""Conversation input: validate OpenAI-style messages and convert them for each provider."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidMessagesError

__all__ = [
    "last_user_text",
    "message_text",
    "to_anthropic_messages",
    "to_anthropic_tools",
    "to_openai_messages",
    "to_openai_tools",
    "validate_messages",
]

ROLES = ("system", "developer", "user", "assistant", "tool")


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def validate_messages(messages: object) -> list[dict[str, Any]]:
    """Check OpenAI-style ``{"role", "content"}`` messages; return them as a list of plain dicts.

    ``content`` is a string or a list of content parts (``{"type": "text", "text": ...}``, images,
    …); assistant messages may carry ``tool_calls`` (then ``content`` may be null) and ``tool``
    messages need a ``tool_call_id``. Raises `InvalidMessagesError` naming the first problem.
    """
    if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes, bytearray)):
        raise InvalidMessagesError(
            f"messages must be a list of {{role, content}} objects, got {_type_name(messages)}"
        )
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping):
            raise InvalidMessagesError(f"{where} must be an object, got {_type_name(message)}")
        role = message.get("role")
        if not isinstance(role, str):
            raise InvalidMessagesError(f"{where}.role must be a string, got {_type_name(role)}")
        if role not in ROLES:
            raise InvalidMessagesError(
                f"{where}.role {role!r} is not one of {', '.join(repr(r) for r in ROLES)}"
            )
        content = message.get("content")
        tool_calls = message.get("tool_calls")
        if content is None:
            if role != "assistant":
                raise InvalidMessagesError(f"{where}.content is required for a {role} message")
        elif isinstance(content, list):
            for j, part in enumerate(content):
                if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
                    raise InvalidMessagesError(
                        f"{where}.content[{j}] must be a content part with a string 'type'"
                    )
                if part["type"] == "text" and not isinstance(part.get("text"), str):
                    raise InvalidMessagesError(f"{where}.content[{j}].text must be a string")
        elif not isinstance(content, str):
            raise InvalidMessagesError(
                f"{where}.content must be a string or a list of content parts, "
                f"got {_type_name(content)}"
            )
        if tool_calls is not None:
            if role != "assistant":
                raise InvalidMessagesError(
                    f"{where}.tool_calls is only allowed on assistant messages"
                )
            _validate_tool_calls(where, tool_calls)
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise InvalidMessagesError(f"{where}.tool_call_id must be a string for a tool message")
        out.append(dict(message))
    return out


def _validate_tool_calls(where: str, tool_calls: object) -> None:
    if not isinstance(tool_calls, list):
        raise InvalidMessagesError(f"{where}.tool_calls must be a list")
    for k, call in enumerate(tool_calls):
        at = f"{where}.tool_calls[{k}]"
        if not isinstance(call, Mapping) or not isinstance(call.get("id"), str):
            raise InvalidMessagesError(f"{at} must be an object with a string 'id'")
        function = call.get("function")
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise InvalidMessagesError(f"{at}.function must be an object with a string 'name'")
        arguments = function.get("arguments", "")
        if not isinstance(arguments, (str, Mapping)):
            raise InvalidMessagesError(f"{at}.function.arguments must be a JSON string")


def message_text(content: Any) -> str:
    """The text of a message's content (string, or the text parts of a part list joined)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, Mapping) and part.get("type") == "text"
        )
    return ""


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The text of the last user message ('' if there is none)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message.get("content"))
    return ""


def _arguments_text(arguments: Any) -> str:
    if isinstance(arguments, Mapping):
        return json.dumps(dict(arguments), ensure_ascii=False)
    return str(arguments or "")


# -- OpenAI -----------------------------------------------------------------------------------


def to_openai_messages(
    messages: Sequence[Mapping[str, Any]], system: str | None = None
) -> list[dict[str, Any]]:
    """Messages for Chat Completions: ``system`` first, tool call arguments as JSON strings."""
    out: list[dict[str, Any]] = []
    if system:
        out.append({"role": "system", "content": system})
    for message in messages:
        converted = dict(message)
        converted.pop("is_error", None)  # ours (Anthropic's is_error); the API has no such field
        tool_calls = message.get("tool_calls")
        if tool_calls:
            converted["tool_calls"] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {
                        "name": call["function"]["name"],
                        "arguments": _arguments_text(call["function"].get("arguments")),
                    },
                }
                for call in tool_calls
            ]
        elif "tool_calls" in converted:
            del converted["tool_calls"]  # an empty list is rejected by the API
        out.append(converted)
    return out


def to_openai_tools(tools: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Tools as Chat Completions function tools (accepts OpenAI or Anthropic-style definitions)."""
    out: list[dict[str, Any]] = []
    for tool in tools:
        if tool.get("type") == "function" and isinstance(tool.get("function"), Mapping):
            out.append(dict(tool))
            continue
        function: dict[str, Any] = {"name": tool["name"]}
        if tool.get("description"):
            function["description"] = tool["description"]
        parameters = tool.get("parameters", tool.get("input_schema"))
        function["parameters"] = parameters or {"type": "object", "properties": {}}
        out.append({"type": "function", "function": function})
    return out


# -- Anthropic --------------------------------------------------------------------------------


def _anthropic_part(part: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = part.get("type")
    if kind == "text":
        text = part.get("text", "")
        return {"type": "text", "text": text} if text else None
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url", "") if isinstance(image, Mapping) else str(image or "")
        if url.startswith("data:") and ";base64," in url:
            media_type, data = url[5:].split(";base64,", 1)
            return {
                "type": "image",
                "source": {"type": "base64", "media_type": media_type, "data": data},
            }
        return {"type": "image", "source": {"type": "url", "url": url}}
    return dict(part)  # already an Anthropic block (image, document, tool_result, …)


def _anthropic_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in content or []:
        block = _anthropic_part(part)
        if block is not None:
            blocks.append(block)
    return blocks


def _tool_input(arguments: Any, where: str) -> dict[str, Any]:
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if not arguments:
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        raise InvalidMessagesError(f"{where} arguments are not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidMessagesError(f"{where} arguments must be a JSON object")
    return value


def to_anthropic_messages(
    messages: Sequence[Mapping[str, Any]], system: str | None = None
) -> tuple[str | None, list[dict[str, Any]]]:
    """``(system, messages)`` for the Messages API.

    System and developer messages are lifted into ``system`` (after the given ``system``, joined
    by blank lines); assistant ``tool_calls`` become ``tool_use`` blocks; ``tool`` messages become
    ``tool_result`` blocks in a user turn; consecutive turns of the same role are merged and
    empty turns dropped, as the API requires.
    """
    system_parts = [system] if system else []
    turns: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        role = message["role"]
        content = message.get("content")
        if role in ("system", "developer"):
            text = message_text(content)
            if text:
                system_parts.append(text)
            continue
        if role == "tool":
            result: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": message["tool_call_id"],
                "content": content if isinstance(content, str) else _anthropic_blocks(content),
            }
            if message.get("is_error"):
                result["is_error"] = True
            role, blocks = "user", [result]
        else:
            blocks = _anthropic_blocks(content)
            for k, call in enumerate(message.get("tool_calls") or ()):
                function = call["function"]
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call["id"],
                        "name": function["name"],
                        "input": _tool_input(
                            function.get("arguments"), f"messages[{i}].tool_calls[{k}]"
                        ),
                    }
                )
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        # A turn of one text block is sent as a plain string, as people write it.
        blocks = turn["content"]
        if len(blocks) == 1 and blocks[0]["type"] == "text":
            turn["content"] = blocks[0]["text"]
    return ("\n\n".join(system_parts) or None), turns


def to_anthropic_tools(tools: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Tools for the Messages API (accepts OpenAI function tools or Anthropic definitions)."""
    out: list[dict[str, Any]] = []
    for tool in tools:
        function = tool.get("function")
        if tool.get("type") == "function" and isinstance(function, Mapping):
            source: Mapping[str, Any] = function
        elif "input_schema" in tool or "name" not in tool or "parameters" not in tool:
            out.append(dict(tool))  # already Anthropic-shaped (or a server tool)
            continue
        else:
            source = tool
        converted: dict[str, Any] = {"name": source["name"]}
        if source.get("description"):
            converted["description"] = source["description"]
        converted["input_schema"] = source.get("parameters") or {
            "type": "object",
            "properties": {},
        }
        out.append(converted)
    return out


def find_call(history: Sequence[Mapping[str, Any]], call_id: str) -> dict[str, Any] | None:
    """The ``function`` (name, argument text) of the assistant tool call ``call_id`` in the
    history (OpenAI chat shape), or None."""
    for message in history:
        for call in message.get("tool_calls") or ():
            if isinstance(call, Mapping) and call.get("id") == call_id:
                function = call.get("function")
                return dict(function) if isinstance(function, Mapping) else {}
    return None
