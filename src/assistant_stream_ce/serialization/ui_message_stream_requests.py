"""What ``useChat``'s ``DefaultChatTransport`` POSTs (npm ``ai`` 5, 6, 7), as pydantic models.

The body is ``{id, messages, trigger, messageId?, ...body}``; each message is a ``UIMessage``
``{id, role, parts, metadata?}``. Use `UIChatRequest` as a FastAPI body parameter (a malformed
body is then a 422 naming the field) and `UIChatRequest.to_provider_messages` for the
OpenAI-style message list `run_provider` takes::

    @app.post("/api/chat")
    async def chat(request: UIChatRequest):
        messages = request.to_provider_messages()
        return UIMessageStreamResponse(create_run(lambda c: run_provider(c, messages, ...)))

When the chat continues an assistant message (after ``addToolOutput`` or an approval, the last
message is that assistant message and ``messageId`` its id), pass
``message_id=request.messageId`` to the response so the ``start`` chunk keeps its id.

Needs pydantic 2 (installed with FastAPI). Unknown part types are accepted and skipped by the
conversion with a warning; nothing a client sends (``data-*`` parts, metadata, usage) is taken
as server state.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

__all__ = [
    "DataUIPart",
    "DynamicToolUIPart",
    "FileUIPart",
    "ReasoningUIPart",
    "SourceDocumentUIPart",
    "SourceUrlUIPart",
    "StepStartUIPart",
    "TextUIPart",
    "ToolApproval",
    "ToolUIPart",
    "UIChatRequest",
    "UIMessage",
    "UIMessagePart",
    "UnknownUIPart",
    "ui_messages_to_provider_messages",
]

logger = logging.getLogger("assistant_stream_ce.serialization")

ToolState = Literal[
    "input-streaming",
    "input-available",
    "approval-requested",
    "approval-responded",
    "output-available",
    "output-error",
    "output-denied",
]


class _Part(BaseModel):
    # Newer `ai` releases add fields (providerMetadata, …): keep them, never reject them.
    model_config = ConfigDict(extra="allow")


class TextUIPart(_Part):
    """Text the user typed or the assistant wrote."""

    type: Literal["text"]
    text: str
    state: Literal["streaming", "done"] | None = None


class ReasoningUIPart(_Part):
    """Assistant reasoning (not sent back to the model)."""

    type: Literal["reasoning"]
    text: str
    state: Literal["streaming", "done"] | None = None


class FileUIPart(_Part):
    """A file: a URL or a ``data:`` URL, with its media type."""

    type: Literal["file"]
    mediaType: str
    url: str
    filename: str | None = None


class SourceUrlUIPart(_Part):
    """A cited URL."""

    type: Literal["source-url"]
    sourceId: str
    url: str
    title: str | None = None


class SourceDocumentUIPart(_Part):
    """A cited document."""

    type: Literal["source-document"]
    sourceId: str
    mediaType: str
    title: str
    filename: str | None = None


class StepStartUIPart(_Part):
    """A step boundary inside an assistant message."""

    type: Literal["step-start"]


class DataUIPart(_Part):
    """A ``data-<name>`` part (app data; never taken as server state)."""

    type: Annotated[str, Field(pattern=r"^data-.+")]
    id: str | None = None
    data: Any = None


class ToolApproval(_Part):
    """A tool call's approval request and (once answered) the user's decision."""

    id: str
    approved: bool | None = None
    reason: str | None = None


class _ToolFields(_Part):
    toolCallId: str
    state: ToolState
    input: Any = None
    output: Any = None
    errorText: str | None = None
    rawInput: Any = None
    providerExecuted: bool | None = None
    approval: ToolApproval | None = None


class ToolUIPart(_ToolFields):
    """A call of a tool known to the app: the name is in the type (``tool-<name>``)."""

    type: Annotated[str, Field(pattern=r"^tool-.+")]

    @property
    def tool_name(self) -> str:
        return self.type[5:]


class DynamicToolUIPart(_ToolFields):
    """A call of a tool not typed by the app, with its ``toolName``."""

    type: Literal["dynamic-tool"]
    toolName: str

    @property
    def tool_name(self) -> str:
        return self.toolName


class UnknownUIPart(_Part):
    """A part type this library does not know (kept; skipped by the conversion)."""

    type: str


_FIXED_TAGS = {
    "text",
    "reasoning",
    "file",
    "source-url",
    "source-document",
    "step-start",
    "dynamic-tool",
}


def _part_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(kind, str):
        return "unknown"
    if kind in _FIXED_TAGS:
        return kind
    if kind.startswith("tool-"):
        return "tool"
    if kind.startswith("data-"):
        return "data"
    return "unknown"


UIMessagePart = Annotated[
    Union[
        Annotated[TextUIPart, Tag("text")],
        Annotated[ReasoningUIPart, Tag("reasoning")],
        Annotated[FileUIPart, Tag("file")],
        Annotated[SourceUrlUIPart, Tag("source-url")],
        Annotated[SourceDocumentUIPart, Tag("source-document")],
        Annotated[StepStartUIPart, Tag("step-start")],
        Annotated[DynamicToolUIPart, Tag("dynamic-tool")],
        Annotated[ToolUIPart, Tag("tool")],
        Annotated[DataUIPart, Tag("data")],
        Annotated[UnknownUIPart, Tag("unknown")],
    ],
    Discriminator(_part_tag),
]


class UIMessage(BaseModel):
    """One message of the chat history as the AI SDK keeps it."""

    model_config = ConfigDict(extra="allow")

    id: str
    role: Literal["system", "user", "assistant"]
    parts: list[UIMessagePart]
    metadata: Any = None


class UIChatRequest(BaseModel):
    """The body ``DefaultChatTransport`` POSTs; extra ``body`` fields are kept (`extra`)."""

    model_config = ConfigDict(extra="allow")

    #: The chat id (use it as the thread id).
    id: str | None = None
    messages: list[UIMessage]
    trigger: Literal["submit-message", "regenerate-message"] = "submit-message"
    #: The assistant message being regenerated or continued, if any.
    messageId: str | None = None

    @property
    def extra(self) -> dict[str, Any]:
        """The extra fields the transport's ``body`` option added."""
        return dict(self.model_extra or {})

    def to_provider_messages(
        self, system: str | None = None, *, client_system: bool = False
    ) -> list[dict[str, Any]]:
        """The history as OpenAI-style messages (see `ui_messages_to_provider_messages`)."""
        return ui_messages_to_provider_messages(
            self.messages, system=system, client_system=client_system
        )


# -- conversion ------------------------------------------------------------------------------


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _arguments(part: ToolUIPart | DynamicToolUIPart) -> str:
    value = part.input if part.input is not None else part.rawInput
    if value is None:
        return "{}"
    return _json_text(value)


def _tool_outcome(part: ToolUIPart | DynamicToolUIPart) -> str | None:
    """The tool message content for a call that has an outcome, else None."""
    state = part.state
    if state == "output-available":
        return _json_text(part.output)
    if state == "output-error":
        return part.errorText or "The tool failed."
    approval = part.approval
    if state == "output-denied" or (
        state == "approval-responded" and approval is not None and approval.approved is False
    ):
        reason = approval.reason if approval is not None else None
        return "The user denied this tool call." + (f" Reason: {reason}" if reason else "")
    return None


def _user_content(message: UIMessage, where: str) -> str | list[dict[str, Any]] | None:
    texts: list[str] = []
    content: list[dict[str, Any]] = []
    for index, part in enumerate(message.parts):
        if isinstance(part, TextUIPart):
            texts.append(part.text)
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, FileUIPart) and part.mediaType.startswith("image/"):
            content.append({"type": "image_url", "image_url": {"url": part.url}})
        elif not isinstance(part, StepStartUIPart):
            logger.warning("%s.parts[%d]: %r part skipped", where, index, part.type)
    if len(content) == len(texts):
        return "".join(texts) if texts else None
    return content


def _assistant_messages(message: UIMessage, where: str) -> list[dict[str, Any]]:
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

    for index, part in enumerate(message.parts):
        if isinstance(part, StepStartUIPart):
            flush()
        elif isinstance(part, TextUIPart):
            if calls:  # text after a call's result belongs to the next model turn
                flush()
            texts.append(part.text)
        elif isinstance(part, (ToolUIPart, DynamicToolUIPart)):
            outcome = _tool_outcome(part)
            if outcome is None:
                logger.debug("%s.parts[%d]: tool call without an outcome left out", where, index)
                continue
            calls.append(
                {
                    "id": part.toolCallId,
                    "type": "function",
                    "function": {"name": part.tool_name, "arguments": _arguments(part)},
                }
            )
            results.append({"role": "tool", "tool_call_id": part.toolCallId, "content": outcome})
        elif isinstance(part, (UnknownUIPart, FileUIPart)):
            logger.warning("%s.parts[%d]: %r part skipped", where, index, part.type)
        # reasoning, sources and data parts are not model input
    flush()
    return out


def ui_messages_to_provider_messages(
    messages: list[UIMessage], system: str | None = None, *, client_system: bool = False
) -> list[dict[str, Any]]:
    """OpenAI-style messages (what `run_provider` takes) for a UI message history.

    ``system`` (the server's prompt) comes first. System messages sent by the client are left
    out with a warning unless ``client_system=True``: the server owns the system prompt. User
    text and images (``file`` parts with an ``image/*`` type) become content; each step
    of an assistant message becomes an assistant message with its text and ``tool_calls``,
    followed by one ``tool`` message per call (the output as JSON text, the ``errorText``, or
    a denial with its reason). Calls without an outcome yet, reasoning, sources, ``data-*`` and
    ``step-start`` parts are left out; other unknown parts are skipped with a warning.
    """
    out: list[dict[str, Any]] = []
    if system:
        out.append({"role": "system", "content": system})
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if message.role == "assistant":
            out.extend(_assistant_messages(message, where))
            continue
        if message.role == "system" and not client_system:
            logger.warning("%s: a system message from the client left out", where)
            continue
        content = _user_content(message, where)
        if content is not None:
            out.append({"role": message.role, "content": content})
    return out
