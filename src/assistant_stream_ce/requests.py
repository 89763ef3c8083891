"""Requests: what each frontend POSTs, parsed into one typed `ChatRequest`.

>>> request = parse_request(b'{"messages": [{"role": "user", "content": "Hi"}]}', protocol="rais")
>>> request.messages
[{'role': 'user', 'content': 'Hi'}]

Every registered protocol names its parser in the registry (``ProtocolInfo.request_parser``);
`parse_request` looks it up there, so a new protocol brings its own. The result is always the
same shape: ``messages`` in the OpenAI chat shape `run_provider` takes (system messages lifted
into ``system``), the ``tools`` the frontend offers, its ``state``, ids, and the client's
``answers`` to pending tool calls (results and approval decisions).

Malformed input raises `RequestError` (a `StreamError`) naming the protocol and the field; in
FastAPI use `chat_request` as a dependency (the error becomes a 422 JSON response)::

    @app.post("/api/chat")
    async def chat(request: ChatRequest = Depends(chat_request("ui-message-stream"))): ...

Needs pydantic 2 (installed with FastAPI).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InvalidMessagesError, StreamError
from .providers._messages import validate_messages

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import JSONResponse

__all__ = [
    "MAX_BODY_BYTES",
    "ChatRequest",
    "RequestError",
    "ToolAnswer",
    "ToolDefinition",
    "chat_request",
    "parse_request",
    "request_openapi",
]

logger = logging.getLogger("assistant_stream_ce.requests")

#: The largest body `parse_request` reads by default (bytes of JSON).
MAX_BODY_BYTES = 8 * 1024 * 1024


class RequestError(StreamError, ValueError):
    """A request body does not follow its protocol.

    ``protocol`` and ``field`` (a path such as ``messages[0].role``, or ``body``) name the
    problem; ``status_code`` is the HTTP status to answer with (422, or 413 for a body over the
    size limit). The message never contains the offending value.
    """

    def __init__(self, protocol: str, field: str, problem: str, *, status_code: int = 422) -> None:
        self.protocol = protocol
        self.field = field
        self.problem = problem
        self.status_code = status_code
        super().__init__(f"invalid {protocol} request: {field}: {problem}")

    def response(self) -> JSONResponse:
        """The error as a JSON response (for Starlette apps and exception handlers)."""
        from starlette.responses import JSONResponse

        return JSONResponse(self.to_dict(), status_code=self.status_code)

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the error response."""
        return {
            "error": {
                "type": "invalid_request",
                "protocol": self.protocol,
                "field": self.field,
                "message": self.problem,
            }
        }


# -- the common result -----------------------------------------------------------------------


class ToolDefinition(BaseModel):
    """A tool the frontend offers: its name, description and JSON-schema parameters."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        """The tool as a Chat Completions function tool (what `run_provider` takes)."""
        function: dict[str, Any] = {"name": self.name, "parameters": self.parameters}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}


class ToolAnswer(BaseModel):
    """The client's answer to a pending tool call: a result, or an approval decision."""

    tool_call_id: str
    tool_name: str | None = None
    kind: Literal["result", "approval"]
    #: ``kind="result"``: the tool's result and whether it is an error.
    result: Any = None
    is_error: bool = False
    #: ``kind="approval"``: the decision, its reason and the approval request's id.
    approved: bool | None = None
    reason: str | None = None
    approval_id: str | None = None
    #: The call's arguments (parsed JSON) when the request carries them.
    arguments: Any = None


class ChatRequest(BaseModel):
    """One frontend request, whatever its protocol.

    ``messages`` is the conversation in the OpenAI chat shape (``role``, ``content`` as text or
    parts, assistant ``tool_calls``, ``tool`` messages with ``tool_call_id``) without system
    messages: the client's system prompt is in ``system`` (the server decides whether to use
    it). Tool calls the client has not answered yet are left out of ``messages``. ``answers``
    lists the client's answers found in the request; those `unapplied_answers` gives are not in
    ``messages`` yet (an approved call still to run, or a result for a call that only the
    server's stored history holds, as with assistant transport).
    """

    model_config = ConfigDict(extra="forbid")

    protocol: str
    messages: list[dict[str, Any]] = Field(default_factory=list)
    tools: list[ToolDefinition] = Field(default_factory=list)
    state: Any = None
    system: str | None = None
    thread_id: str | None = None
    run_id: str | None = None
    #: The assistant message this request continues or regenerates, when the client says.
    message_id: str | None = None
    answers: list[ToolAnswer] = Field(default_factory=list)
    #: Top-level fields of the body this model does not map (settings, user ``body`` fields).
    extra: dict[str, Any] = Field(default_factory=dict)

    def openai_tools(self) -> list[dict[str, Any]]:
        """The frontend's tools as Chat Completions function tools."""
        return [tool.to_openai() for tool in self.tools]

    def unapplied_answers(self) -> list[ToolAnswer]:
        """Answers ``messages`` does not hold yet (no ``tool`` message for their call)."""
        answered = {m.get("tool_call_id") for m in self.messages if m.get("role") == "tool"}
        return [answer for answer in self.answers if answer.tool_call_id not in answered]


# -- entry points ----------------------------------------------------------------------------


def parse_request(
    body: bytes | bytearray | str | Mapping[str, Any],
    *,
    protocol: str,
    max_bytes: int | None = MAX_BODY_BYTES,
) -> ChatRequest:
    """Parse a request body sent in ``protocol``'s own shape into a `ChatRequest`.

    ``body`` is the raw JSON (``bytes`` or ``str``) or an already-decoded object. Raises
    `RequestError` (422 naming the field; 413 above ``max_bytes``) for malformed input and
    `ValueError` for a protocol that is not registered or has no request parser.
    """
    from .serialization.registry import get_protocol

    info = get_protocol(protocol)
    parser = info.get_request_parser()
    if parser is None:
        raise ValueError(f"the {protocol!r} protocol has no request parser")
    data = _decode_body(body, protocol, max_bytes)
    if not isinstance(data, Mapping):
        raise RequestError(protocol, "body", f"must be a JSON object, not {_json_type(data)}")
    try:
        result = parser(data)
    except ValidationError as exc:
        raise _from_validation(protocol, exc) from None
    except InvalidMessagesError as exc:
        raise _from_messages_error(protocol, exc) from None
    except RecursionError:
        raise RequestError(protocol, "body", "nested too deeply") from None
    if not isinstance(result, ChatRequest):
        raise TypeError(f"the {protocol!r} request parser returned {type(result).__name__}")
    return result


def chat_request(
    protocol: str, *, max_bytes: int | None = MAX_BODY_BYTES
) -> Callable[[Request], Awaitable[ChatRequest]]:
    """A FastAPI dependency reading the body as ``protocol``'s request.

    A malformed body is answered with the `RequestError`'s status (422) and its `to_dict`
    JSON body, never a 500::

        @app.post("/api/chat")
        async def chat(request: ChatRequest = Depends(chat_request("openai"))): ...
    """
    from .serialization.registry import get_protocol

    get_protocol(protocol)  # fail at startup for a name that is not registered

    async def dependency(request: Request) -> ChatRequest:
        from starlette.exceptions import HTTPException

        try:
            body = await _read_body(request, protocol, max_bytes)
            return parse_request(body, protocol=protocol, max_bytes=max_bytes)
        except RequestError as exc:
            # FastAPI answers HTTPException with {"detail": detail} as JSON.
            raise HTTPException(exc.status_code, detail=exc.to_dict()["error"]) from None

    from starlette.requests import Request as _Request

    # FastAPI reads the annotations at runtime: give it the classes, not the strings.
    dependency.__annotations__ = {"request": _Request, "return": ChatRequest}
    return dependency


# -- helpers ---------------------------------------------------------------------------------


async def _read_body(request: Request, protocol: str, max_bytes: int | None) -> bytes:
    """The request body, read no further than ``max_bytes`` (413 beyond it)."""
    received = bytearray()
    async for piece in request.stream():
        received += piece
        if max_bytes is not None and len(received) > max_bytes:
            raise RequestError(protocol, "body", f"larger than {max_bytes} bytes", status_code=413)
    return bytes(received)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def _decode_body(body: Any, protocol: str, max_bytes: int | None) -> Any:
    if isinstance(body, Mapping):
        return body
    if isinstance(body, (bytes, bytearray)):
        if max_bytes is not None and len(body) > max_bytes:
            raise RequestError(protocol, "body", f"larger than {max_bytes} bytes", status_code=413)
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError(protocol, "body", "is not UTF-8") from None
    elif isinstance(body, str):
        text = body
        if max_bytes is not None and len(text) > max_bytes:
            raise RequestError(protocol, "body", f"larger than {max_bytes} bytes", status_code=413)
    else:
        raise TypeError(f"body must be bytes, str or a mapping, not {type(body).__name__}")
    from .serialization.decoding import Malformed, loads

    if not text.strip():
        raise RequestError(protocol, "body", "is empty")
    try:
        return loads(text)
    except Malformed:
        raise RequestError(protocol, "body", "is not valid JSON") from None
    except RecursionError:
        raise RequestError(protocol, "body", "nested too deeply") from None


def _field_path(loc: Sequence[Any]) -> str:
    path = ""
    for index, item in enumerate(loc):
        if isinstance(item, int):
            path += f"[{item}]"
        elif item in _UNION_TAGS and index >= 2 and loc[index - 2] == "parts":
            continue  # pydantic's name for the union member, not a field of the body
        else:
            path += f".{item}" if path else str(item)
    return path or "body"


# Discriminator tags pydantic adds to error locations (the UI message part union).
_UNION_TAGS = frozenset(
    {
        "text",
        "reasoning",
        "file",
        "source-url",
        "source-document",
        "step-start",
        "dynamic-tool",
        "tool",
        "data",
        "unknown",
    }
)


def _from_validation(protocol: str, exc: ValidationError) -> RequestError:
    error = exc.errors(include_url=False, include_input=False)[0]
    return RequestError(protocol, _field_path(error["loc"]), error["msg"])


_MESSAGES_FIELD = re.compile(r"^(messages\[\d+\][\w.\[\]]*)\s+(.*)$", re.S)


# "'<the value sent>' is not one of …": the value is left out of the error.
_ECHOED_VALUE = re.compile(r"^(?:'.*'|\".*\") (is not one of .*)$", re.S)


def _from_messages_error(protocol: str, exc: InvalidMessagesError) -> RequestError:
    text = str(exc)
    match = _MESSAGES_FIELD.match(text)
    if not match:
        return RequestError(protocol, "messages", text[:300])
    problem = match.group(2)
    echoed = _ECHOED_VALUE.match(problem)
    if echoed:
        problem = echoed.group(1)
    return RequestError(protocol, match.group(1), problem[:300])


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _parse_arguments(value: Any) -> Any:
    """Arguments as parsed JSON (a JSON string is parsed; invalid JSON is kept as text)."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else {}
        except ValueError:
            return value
    return value


def _lift_system(
    messages: list[dict[str, Any]], system: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Move system messages out of ``messages`` into the system text (after ``system``)."""
    texts = [system] if system else []
    kept: list[dict[str, Any]] = []
    for message in messages:
        if message.get("role") == "system":
            content = message.get("content")
            if isinstance(content, str):
                text = content
            else:
                text = "".join(
                    part.get("text", "")
                    for part in content or ()
                    if isinstance(part, Mapping) and part.get("type") == "text"
                )
            if text:
                texts.append(text)
        else:
            kept.append(message)
    return kept, ("\n\n".join(texts) or None)


def _trailing_results(messages: list[dict[str, Any]]) -> list[ToolAnswer]:
    """The tool messages after the last assistant message, as answers (with their calls' names
    and arguments, so every protocol's answers look alike)."""
    calls: dict[str, Mapping[str, Any]] = {}
    answers: list[ToolAnswer] = []
    for message in messages:
        if message.get("role") == "assistant":
            answers = []
            for call in message.get("tool_calls") or ():
                calls[call["id"]] = call.get("function") or {}
        elif message.get("role") == "tool":
            call_id = message["tool_call_id"]
            function = calls.get(call_id)
            answers.append(
                ToolAnswer(
                    tool_call_id=call_id,
                    tool_name=None if function is None else function.get("name", ""),
                    kind="result",
                    result=_parse_arguments(message.get("content")),
                    is_error=bool(message.get("is_error")),
                    arguments=None
                    if function is None
                    else _parse_arguments(function.get("arguments")),
                )
            )
        else:
            answers = []
    return answers


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")

    def extra_fields(self, *drop: str) -> dict[str, Any]:
        return {k: v for k, v in (self.model_extra or {}).items() if k not in drop}


class _ToolSchema(BaseModel):
    """One entry of a ``tools`` object keyed by name (assistant-ui's ``toToolsJSONSchema``)."""

    model_config = ConfigDict(extra="allow")

    description: str | None = None
    parameters: dict[str, Any] | None = None


def _tools_by_name(tools: Mapping[str, _ToolSchema] | None) -> list[ToolDefinition]:
    out: list[ToolDefinition] = []
    for name, tool in (tools or {}).items():
        definition = ToolDefinition(name=name, description=tool.description)
        if tool.parameters is not None:
            definition.parameters = tool.parameters
        out.append(definition)
    return out


# -- OpenAI chat completions -----------------------------------------------------------------


class _OpenAIFunction(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class _OpenAITool(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["function"] = "function"
    function: _OpenAIFunction


class _OpenAIBody(_Body):
    messages: list[dict[str, Any]] = Field(min_length=1)
    tools: list[_OpenAITool] | None = None
    model: str | None = None
    n: int | None = None
    user: str | None = None


def parse_openai_request(body: Mapping[str, Any]) -> ChatRequest:
    """A Chat Completions request (``messages``, ``tools``, ``model``, …)."""
    parsed = _OpenAIBody.model_validate(body)
    if parsed.n not in (None, 1):
        raise RequestError("openai", "n", "only n=1 is supported")
    messages, system = _lift_system(validate_messages(parsed.messages))
    tools = [
        ToolDefinition(
            name=tool.function.name,
            description=tool.function.description,
            parameters=tool.function.parameters or {"type": "object", "properties": {}},
        )
        for tool in parsed.tools or ()
    ]
    extra = parsed.extra_fields()
    if parsed.model is not None:
        extra["model"] = parsed.model
    return ChatRequest(
        protocol="openai",
        messages=messages,
        tools=tools,
        system=system,
        answers=_trailing_results(messages),
        extra=extra,
    )


# -- RAIS ------------------------------------------------------------------------------------


class _RAISMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool"]
    content: str


class _RAISBody(_Body):
    messages: list[_RAISMessage] = Field(min_length=1)


def parse_rais_request(body: Mapping[str, Any]) -> ChatRequest:
    """A RAIS request: ``{messages: [{role, content}], ...extra}`` (``content`` is a string)."""
    parsed = _RAISBody.model_validate(body)
    raw = [message.model_dump() for message in parsed.messages]
    messages, system = _lift_system(validate_messages(raw))
    return ChatRequest(
        protocol="rais",
        messages=messages,
        system=system,
        answers=_trailing_results(messages),
        extra=parsed.extra_fields(),
    )


# -- UI message stream (AI SDK 5, 6, 7) ------------------------------------------------------


def parse_ui_message_stream_request(body: Mapping[str, Any]) -> ChatRequest:
    """What ``useChat``'s ``DefaultChatTransport`` POSTs (see `UIChatRequest`).

    Answers come from the last message when it is the assistant message being continued:
    tool outputs and errors (also in ``messages``), denials (in ``messages`` as a denial) and
    approvals (approved calls are not in ``messages`` until they run).
    """
    from .serialization.ui_message_stream_requests import (
        DynamicToolUIPart,
        TextUIPart,
        ToolUIPart,
        UIChatRequest,
        ui_messages_to_provider_messages,
    )

    parsed = UIChatRequest.model_validate(body)
    system_texts = [
        part.text
        for message in parsed.messages
        if message.role == "system"
        for part in message.parts
        if isinstance(part, TextUIPart)
    ]
    messages = ui_messages_to_provider_messages(parsed.messages)
    answers: list[ToolAnswer] = []
    last = parsed.messages[-1] if parsed.messages else None
    if last is not None and last.role == "assistant":
        for part in last.parts:
            if not isinstance(part, (ToolUIPart, DynamicToolUIPart)):
                continue
            approval = part.approval
            if part.state in ("output-available", "output-error"):
                error = part.state == "output-error"
                answers.append(
                    ToolAnswer(
                        tool_call_id=part.toolCallId,
                        tool_name=part.tool_name,
                        kind="result",
                        result=part.errorText if error else part.output,
                        is_error=error,
                        arguments=part.input,
                    )
                )
            elif (
                part.state in ("approval-responded", "output-denied")
                and approval is not None
                and approval.approved is not None
            ):
                answers.append(
                    ToolAnswer(
                        tool_call_id=part.toolCallId,
                        tool_name=part.tool_name,
                        kind="approval",
                        approved=approval.approved,
                        reason=approval.reason,
                        approval_id=approval.id,
                        arguments=part.input,
                    )
                )
    extra = parsed.extra
    thread_id = parsed.id
    if thread_id is None and isinstance(extra.get("threadId"), str):
        thread_id = extra["threadId"]
    return ChatRequest(
        protocol="ui-message-stream",
        messages=messages,
        system="\n\n".join(text for text in system_texts if text) or None,
        thread_id=thread_id,
        message_id=parsed.messageId,
        answers=answers,
        extra={"trigger": parsed.trigger, **extra},
    )


# -- assistant-ui data stream runtime and AI SDK 4 useChat -----------------------------------


class _DataStreamBody(_Body):
    messages: list[dict[str, Any]]
    system: str | None = None
    tools: dict[str, _ToolSchema] | None = None
    state: Any = None
    threadId: str | None = None
    id: str | None = None
    unstable_assistantMessageId: str | None = None


def _v4_user_content(message: Mapping[str, Any], where: str) -> str | list[dict[str, Any]]:
    parts = message.get("parts")
    content: list[dict[str, Any]] = []
    if isinstance(parts, list):
        for index, part in enumerate(parts):
            if not isinstance(part, Mapping):
                raise InvalidMessagesError(f"{where}.parts[{index}] must be an object")
            if part.get("type") == "text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise InvalidMessagesError(f"{where}.parts[{index}].text must be a string")
                content.append({"type": "text", "text": text})
    else:
        text = message.get("content")
        if not isinstance(text, str):
            raise InvalidMessagesError(f"{where}.content must be a string")
        content.append({"type": "text", "text": text})
    for attachment in message.get("experimental_attachments") or ():
        if isinstance(attachment, Mapping):
            url, kind = attachment.get("url"), attachment.get("contentType")
            if isinstance(url, str) and isinstance(kind, str) and kind.startswith("image/"):
                content.append({"type": "image_url", "image_url": {"url": url}})
    if all(part["type"] == "text" for part in content):
        return "".join(part["text"] for part in content)
    return content


def _v4_assistant(message: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    """An AI SDK 4 assistant message from its ``parts`` (``content`` glues the steps' text)."""
    parts = message.get("parts")
    if not isinstance(parts, list):
        text = message.get("content")
        return [{"role": "assistant", "content": text}] if isinstance(text, str) and text else []
    out: list[dict[str, Any]] = []
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []

    def flush() -> None:
        if texts or calls:
            turn: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
            if calls:
                turn["tool_calls"] = list(calls)
            out.append(turn)
            out.extend(results)
        texts.clear()
        calls.clear()
        results.clear()

    for index, part in enumerate(parts):
        if not isinstance(part, Mapping):
            raise InvalidMessagesError(f"{where}.parts[{index}] must be an object")
        kind = part.get("type")
        if kind == "step-start":
            flush()
        elif kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise InvalidMessagesError(f"{where}.parts[{index}].text must be a string")
            if calls:
                flush()
            texts.append(text)
        elif kind == "tool-invocation":
            invocation = part.get("toolInvocation")
            at = f"{where}.parts[{index}].toolInvocation"
            if not isinstance(invocation, Mapping):
                raise InvalidMessagesError(f"{at} must be an object")
            call_id, name = invocation.get("toolCallId"), invocation.get("toolName")
            if not isinstance(call_id, str) or not isinstance(name, str):
                raise InvalidMessagesError(f"{at}.toolCallId must be a string with a toolName")
            if invocation.get("state") != "result":
                continue  # not answered yet: left out, as the other protocols do
            calls.append(
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": _json_text(invocation.get("args"))},
                }
            )
            results.append(
                {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "content": _json_text(invocation.get("result")),
                }
            )
    flush()
    return out


def _lm_content(message: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    """assistant-ui's data stream runtime: AI SDK language-model messages (content parts)."""
    role, content = message.get("role"), message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise InvalidMessagesError(f"{where}.content must be a string or a list of parts")
    texts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    tool_messages: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        at = f"{where}.content[{index}]"
        if not isinstance(part, Mapping) or not isinstance(part.get("type"), str):
            raise InvalidMessagesError(f"{at} must be a content part with a string 'type'")
        kind = part["type"]
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise InvalidMessagesError(f"{at}.text must be a string")
            texts.append({"type": "text", "text": part["text"]})
        elif kind in ("file", "image"):
            data = part.get("data", part.get("image"))
            media = part.get("mediaType", part.get("mimeType", "image/*"))
            if isinstance(data, str) and isinstance(media, str) and media.startswith("image/"):
                url = data if ":" in data[:10] else f"data:{media};base64,{data}"
                texts.append({"type": "image_url", "image_url": {"url": url}})
            else:
                logger.warning("%s: %r part skipped", at, kind)
        elif kind == "tool-call":
            call_id, name = part.get("toolCallId"), part.get("toolName")
            if not isinstance(call_id, str) or not isinstance(name, str):
                raise InvalidMessagesError(f"{at}.toolCallId must be a string with a toolName")
            args = part.get("input", part.get("args"))
            calls.append(
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": _json_text(args or {})},
                }
            )
        elif kind == "tool-result":
            call_id = part.get("toolCallId")
            if not isinstance(call_id, str):
                raise InvalidMessagesError(f"{at}.toolCallId must be a string")
            output = part.get("output")
            is_error = False
            if isinstance(output, Mapping) and "value" in output:
                is_error = str(output.get("type", "")).startswith("error")
                value = output["value"]
            else:
                value = part.get("result", output)
                is_error = bool(part.get("isError"))
            tool_message: dict[str, Any] = {
                "role": "tool",
                "tool_call_id": call_id,
                "content": _json_text(value),
            }
            if is_error:
                tool_message["is_error"] = True
            tool_messages.append(tool_message)
        else:
            logger.warning("%s: %r part skipped", at, kind)
    if role == "tool":
        return tool_messages
    if role == "assistant":
        text = "".join(p["text"] for p in texts if p["type"] == "text")
        if not text and not calls:
            return []
        turn: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            turn["tool_calls"] = calls
        return [turn]
    if texts and all(p["type"] == "text" for p in texts):
        return [{"role": role, "content": "".join(p["text"] for p in texts)}]
    return [{"role": role, "content": texts}]


def _drop_unanswered(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Remove assistant tool calls that no ``tool`` message answers (the client still owes
    them), so the history is valid for every provider."""
    answered = {m.get("tool_call_id") for m in messages if m.get("role") == "tool"}
    out: list[dict[str, Any]] = []
    for message in messages:
        calls = message.get("tool_calls")
        if message.get("role") == "assistant" and calls:
            kept = [call for call in calls if call.get("id") in answered]
            message = {k: v for k, v in message.items() if k != "tool_calls"}
            if kept:
                message["tool_calls"] = kept
            elif not message.get("content"):
                continue
        out.append(message)
    return out


def parse_data_stream_request(body: Mapping[str, Any]) -> ChatRequest:
    """assistant-ui's ``useDataStreamRuntime`` body, or AI SDK 4 ``useChat``'s.

    assistant-ui sends language-model messages (``content`` parts: ``tool-call`` with
    ``input``, ``tool-result`` with ``output: {type: "json", value}``), ``tools`` keyed by
    name, ``system``, ``threadId`` and ``state``. AI SDK 4 sends ``{id, messages}`` whose
    assistant ``content`` glues every step's text together: its ``parts`` are read instead.
    """
    parsed = _DataStreamBody.model_validate(body)
    raw: list[dict[str, Any]] = []
    for index, message in enumerate(parsed.messages):
        where = f"messages[{index}]"
        role = message.get("role")
        if role not in ("system", "user", "assistant", "tool", "data"):
            raise InvalidMessagesError(
                f"{where}.role is not one of 'system', 'user', 'assistant', 'tool'"
                if isinstance(role, str)
                else f"{where}.role must be a string"
            )
        if role == "data":
            continue  # AI SDK 4 data messages are not model input
        if "parts" in message and role != "tool":
            if role == "assistant":
                raw.extend(_v4_assistant(message, where))
            else:
                raw.append({"role": role, "content": _v4_user_content(message, where)})
        else:
            raw.extend(_lm_content(message, where))
    messages, system = _lift_system(_drop_unanswered(validate_messages(raw)), parsed.system)
    return ChatRequest(
        protocol="data-stream",
        messages=messages,
        tools=_tools_by_name(parsed.tools),
        state=parsed.state,
        system=system,
        thread_id=parsed.threadId or parsed.id,
        message_id=parsed.unstable_assistantMessageId,
        answers=_trailing_results(messages),
        extra=parsed.extra_fields(),
    )


# -- assistant-ui assistant transport --------------------------------------------------------


class _TransportPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None
    image: str | None = None


class _TransportMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["user", "assistant", "system"]
    parts: list[_TransportPart] = Field(default_factory=list)
    id: str | None = None


class _AddMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["add-message"]
    message: _TransportMessage
    parentId: str | None = None


class _AddToolResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["add-tool-result"]
    toolCallId: str
    toolName: str | None = None
    result: Any = None
    isError: bool = False


class _TransportBody(_Body):
    commands: list[dict[str, Any]]
    state: Any = None
    system: str | None = None
    tools: dict[str, _ToolSchema] | None = None
    threadId: str | None = None
    runId: str | None = None
    parentId: str | None = None


def parse_assistant_transport_request(body: Mapping[str, Any]) -> ChatRequest:
    """``useAssistantTransportRuntime``'s body: ``commands``, ``state``, ``tools`` by name, …

    The history lives on the server (in its state or store): ``messages`` holds the messages
    the ``add-message`` commands add, ``answers`` the ``add-tool-result`` results. Other
    commands are kept in ``extra["commands"]``. ``parentId``, sent with ``add-message``, is
    kept in ``extra`` whenever the body has it: ``null`` says the new message starts the thread.
    ``config`` (which may hold the user's API key) is kept in ``extra`` but never appears in an
    error.
    """
    parsed = _TransportBody.model_validate(body)
    raw: list[dict[str, Any]] = []
    answers: list[ToolAnswer] = []
    custom: list[dict[str, Any]] = []
    for index, command in enumerate(parsed.commands):
        kind = command.get("type") if isinstance(command, Mapping) else None
        if kind == "add-message":
            try:
                message = _AddMessage.model_validate(command).message
            except ValidationError as exc:
                raise _prefixed(exc, f"commands[{index}]") from None
            content: list[dict[str, Any]] = []
            for part in message.parts:
                if part.type == "text" and part.text is not None:
                    content.append({"type": "text", "text": part.text})
                elif part.type == "image" and part.image:
                    content.append({"type": "image_url", "image_url": {"url": part.image}})
                else:
                    logger.warning("commands[%d]: %r part skipped", index, part.type)
            if content and all(p["type"] == "text" for p in content):
                raw.append({"role": message.role, "content": "".join(p["text"] for p in content)})
            elif content:
                raw.append({"role": message.role, "content": content})
        elif kind == "add-tool-result":
            try:
                result = _AddToolResult.model_validate(command)
            except ValidationError as exc:
                raise _prefixed(exc, f"commands[{index}]") from None
            answers.append(
                ToolAnswer(
                    tool_call_id=result.toolCallId,
                    tool_name=result.toolName,
                    kind="result",
                    result=result.result,
                    is_error=result.isError,
                )
            )
        elif isinstance(kind, str):
            custom.append(dict(command))
        else:
            raise RequestError("assistant-transport", f"commands[{index}].type", "must be a string")
    messages, system = _lift_system(validate_messages(raw), parsed.system)
    extra = parsed.extra_fields()
    if "parentId" in parsed.model_fields_set:
        extra["parentId"] = parsed.parentId
    if custom:
        extra["commands"] = custom
    return ChatRequest(
        protocol="assistant-transport",
        messages=messages,
        tools=_tools_by_name(parsed.tools),
        state=parsed.state,
        system=system,
        thread_id=parsed.threadId,
        run_id=parsed.runId,
        answers=answers,
        extra=extra,
    )


def _prefixed(exc: ValidationError, prefix: str) -> RequestError:
    error = exc.errors(include_url=False, include_input=False)[0]
    path = _field_path(error["loc"])
    return RequestError("assistant-transport", f"{prefix}.{path}", error["msg"])


# -- AG-UI -----------------------------------------------------------------------------------


def parse_ag_ui_request(body: Mapping[str, Any]) -> ChatRequest:
    """``@ag-ui/client``'s ``RunAgentInput`` (see `ag_ui_input.RunAgentInput`).

    ``context`` entries lead the system prompt; ``tools`` are the frontend's; tool messages
    after the last assistant message are answers; ``resume`` entries answer the interrupts a
    previous run ended with: an approval interrupt (``approval_<call id>``) becomes an approval
    answer (``status: "resolved"`` with ``payload.approved`` true, or ``true`` itself; anything
    else, ``cancelled`` included, is a denial with ``payload.reason`` if given).
    """
    from .serialization.ag_ui_input import RunAgentInput

    parsed = RunAgentInput.model_validate(body)
    messages, system = _lift_system(validate_messages(parsed.provider_messages()))
    calls = {
        call["id"]: call["function"]
        for message in messages
        for call in message.get("tool_calls") or ()
    }
    answers = _trailing_results(messages)
    for entry in parsed.resume or ():
        call_id = entry.interrupt_id.removeprefix("approval_")
        if not entry.interrupt_id.startswith("approval_") or call_id not in calls:
            continue
        payload = entry.payload
        approved = entry.status == "resolved" and (
            payload is True or (isinstance(payload, Mapping) and payload.get("approved") is True)
        )
        reason = payload.get("reason") if isinstance(payload, Mapping) else None
        answers.append(
            ToolAnswer(
                tool_call_id=call_id,
                tool_name=calls[call_id].get("name"),
                kind="approval",
                approved=approved,
                reason=reason if isinstance(reason, str) else None,
                approval_id=entry.interrupt_id,
                arguments=_parse_arguments(calls[call_id].get("arguments")),
            )
        )
    extra = parsed.model_extra or {}
    return ChatRequest(
        protocol="ag-ui",
        messages=messages,
        tools=[
            ToolDefinition(
                name=tool.name,
                description=tool.description or None,
                parameters=tool.parameters
                if isinstance(tool.parameters, dict)
                else {"type": "object", "properties": {}},
            )
            for tool in parsed.tools
        ],
        state=parsed.state,
        system=system,
        thread_id=parsed.thread_id,
        run_id=parsed.run_id,
        answers=answers,
        extra={
            **extra,
            "forwardedProps": parsed.forwarded_props,
            **({"parentRunId": parsed.parent_run_id} if parsed.parent_run_id else {}),
            **(
                {"resume": [e.model_dump(by_alias=True) for e in parsed.resume]}
                if parsed.resume
                else {}
            ),
        },
    )


# -- request body schemas (OpenAPI) ----------------------------------------------------------


def _ag_ui_body_model() -> type[BaseModel]:
    from .serialization.ag_ui_input import RunAgentInput

    return RunAgentInput


def _ui_body_model() -> type[BaseModel]:
    from .serialization.ui_message_stream_requests import UIChatRequest

    return UIChatRequest


_BODY_MODELS: dict[Callable[..., Any], Callable[[], type[BaseModel]]] = {
    parse_openai_request: lambda: _OpenAIBody,
    parse_rais_request: lambda: _RAISBody,
    parse_data_stream_request: lambda: _DataStreamBody,
    parse_assistant_transport_request: lambda: _TransportBody,
    parse_ui_message_stream_request: _ui_body_model,
    parse_ag_ui_request: _ag_ui_body_model,
}


def request_openapi(protocol: str) -> dict[str, Any]:
    """``openapi_extra`` for a FastAPI route reading ``protocol``'s body with `chat_request`
    (the dependency reads the raw body, so FastAPI cannot see its schema itself)::

        @app.post("/api/chat", openapi_extra=request_openapi("openai"))

    A parser whose body model is not known here (a protocol registered elsewhere) may carry
    it as ``parser.body_model``; otherwise the body is documented as a JSON object.
    """
    from .serialization.registry import get_protocol

    parser = get_protocol(protocol).get_request_parser()
    model: Any = getattr(parser, "body_model", None)
    if model is None and parser in _BODY_MODELS:
        model = _BODY_MODELS[parser]()
    schema = _inline_refs(model.model_json_schema()) if model is not None else {"type": "object"}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its ``#/$defs/…`` references replaced by the definitions (an OpenAPI
    document has no ``$defs`` at its root for them to point to)."""
    definitions = schema.pop("$defs", {})

    def inline(value: Any, depth: int) -> Any:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and depth < 16:
                return inline(definitions.get(ref[8:], {}), depth + 1)
            return {key: inline(item, depth) for key, item in value.items()}
        if isinstance(value, list):
            return [inline(item, depth) for item in value]
        return value

    return inline(schema, 0)  # type: ignore[no-any-return]
