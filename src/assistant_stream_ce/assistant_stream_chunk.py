"""The chunk model: small typed records that every producer emits and every encoder consumes.

Field names and order match the `assistant-stream` package this library succeeds, so code that
builds or inspects chunks keeps working after changing the import root. Every chunk has a
``type`` discriminator; chunks that belong to a message part may carry a ``parent_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Union

__all__ = [
    "AnnotationsChunk",
    "AssistantStreamChunk",
    "DataChunk",
    "ErrorChunk",
    "FileChunk",
    "FinishReason",
    "ObjectStreamAppendTextOperation",
    "ObjectStreamOperation",
    "ObjectStreamSetOperation",
    "ReasoningDeltaChunk",
    "ReasoningPartStartChunk",
    "SourceChunk",
    "StepFinishChunk",
    "StepStartChunk",
    "TextDeltaChunk",
    "ToolApprovalRequestChunk",
    "ToolCallArgsTextFinishChunk",
    "ToolCallBeginChunk",
    "ToolCallDeltaChunk",
    "ToolOutputDeniedChunk",
    "ToolResultChunk",
    "UpdateStateChunk",
    "denial_text",
]

FinishReason = Literal[
    "stop", "length", "content-filter", "tool-calls", "error", "other", "unknown"
]


@dataclass(slots=True)
class TextDeltaChunk:
    """A piece of assistant text."""

    text_delta: str
    type: str = "text-delta"
    parent_id: str | None = None


@dataclass(slots=True)
class ReasoningDeltaChunk:
    """A piece of reasoning ("thinking") text."""

    reasoning_delta: str
    type: str = "reasoning-delta"
    parent_id: str | None = None


@dataclass(slots=True)
class ReasoningPartStartChunk:
    """Opens a new reasoning part, optionally carrying a summary of it."""

    unstable_summary: str | None = None
    # Field order as upstream assistant-stream (parent_id before type), unlike the other chunks.
    parent_id: str | None = None
    type: str = "reasoning-part-start"


@dataclass(slots=True)
class ToolCallBeginChunk:
    """A tool call starts; its arguments follow as JSON text deltas."""

    tool_call_id: str
    tool_name: str
    type: str = "tool-call-begin"
    parent_id: str | None = None


@dataclass(slots=True)
class ToolCallDeltaChunk:
    """A piece of a tool call's JSON argument text."""

    tool_call_id: str
    args_text_delta: str
    type: str = "tool-call-delta"


@dataclass(slots=True)
class ToolCallArgsTextFinishChunk:
    """A tool call's argument text is complete."""

    tool_call_id: str
    args_text_delta: str = ""
    type: str = "tool-call-args-text-finish"


@dataclass(slots=True)
class ToolResultChunk:
    """The result of a tool call (any JSON value), with an optional artifact."""

    tool_call_id: str
    result: Any
    artifact: Any | None = None
    is_error: bool = False
    type: str = "tool-result"


@dataclass(slots=True)
class ToolApprovalRequestChunk:
    """A tool call waits for a person's approval before it runs (the run ends here).

    Encoders whose protocol has no approval form ignore it: the call stays unanswered.
    """

    tool_call_id: str
    approval_id: str
    type: str = "tool-approval-request"


@dataclass(slots=True)
class ToolOutputDeniedChunk:
    """A tool call was denied by the user and did not run (``reason``: the user's, if any).

    UI message stream 6+ has a state for it; the other protocols show it as the call's error
    result (`as_tool_result`), so their frontends see the call answered.
    """

    tool_call_id: str
    type: str = "tool-output-denied"
    reason: str | None = None

    def as_tool_result(self) -> ToolResultChunk:
        """The denial as an error result of the call (its text is `denial_text`)."""
        return ToolResultChunk(self.tool_call_id, denial_text(self.reason), is_error=True)


def denial_text(reason: str | None = None) -> str:
    """What a denied tool call's result says (to the model and in protocols without a
    denied state)."""
    return "The user denied this tool call." + (f" Reason: {reason}" if reason else "")


@dataclass(slots=True)
class DataChunk:
    """An arbitrary JSON value attached to the message."""

    data: Any
    type: str = "data"


@dataclass(slots=True)
class ErrorChunk:
    """An error message for the user (never a stack trace or a secret)."""

    error: str
    type: str = "error"


class ObjectStreamSetOperation(TypedDict):
    """Replace the value at ``path`` (an empty path replaces the whole state)."""

    path: list[str]
    value: Any
    type: Literal["set"]


class ObjectStreamAppendTextOperation(TypedDict):
    """Append ``value`` to the string at ``path``."""

    path: list[str]
    value: str
    type: Literal["append-text"]


ObjectStreamOperation = Union[ObjectStreamSetOperation, ObjectStreamAppendTextOperation]


@dataclass(slots=True)
class UpdateStateChunk:
    """A batch of state operations, applied in order by the client."""

    operations: list[ObjectStreamOperation]
    type: str = "update-state"


@dataclass(slots=True)
class SourceChunk:
    """A cited source (a URL)."""

    id: str
    url: str
    source_type: str = "url"
    title: str | None = None
    type: str = "source"
    parent_id: str | None = None


@dataclass(slots=True)
class FileChunk:
    """A file: base64 data or a URL, with its media type."""

    data: str
    mime_type: str
    type: str = "file"
    parent_id: str | None = None


@dataclass(slots=True)
class AnnotationsChunk:
    """Message annotations (a list of JSON values)."""

    annotations: list[Any]
    type: str = "annotations"


@dataclass(slots=True)
class StepStartChunk:
    """A model step (one model call) starts."""

    message_id: str
    type: str = "step-start"


@dataclass(slots=True)
class StepFinishChunk:
    """A model step ends, with its finish reason and token usage."""

    finish_reason: str
    input_tokens: int = 0
    output_tokens: int = 0
    is_continued: bool = False
    type: str = "step-finish"


AssistantStreamChunk = Union[
    TextDeltaChunk,
    ReasoningDeltaChunk,
    ReasoningPartStartChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolResultChunk,
    ToolApprovalRequestChunk,
    ToolOutputDeniedChunk,
    DataChunk,
    ErrorChunk,
    UpdateStateChunk,
    SourceChunk,
    FileChunk,
    AnnotationsChunk,
    StepStartChunk,
    StepFinishChunk,
]


#: Every chunk type, in the order the protocol notes list them.
CHUNK_TYPES = (
    "text-delta",
    "reasoning-delta",
    "reasoning-part-start",
    "tool-call-begin",
    "tool-call-delta",
    "tool-call-args-text-finish",
    "tool-result",
    "tool-approval-request",
    "tool-output-denied",
    "data",
    "annotations",
    "error",
    "update-state",
    "source",
    "file",
    "step-start",
    "step-finish",
)


def chunk_handlers(owner: object) -> dict[str, Callable[[Any], None]]:
    """``owner``'s handler for each chunk type it handles: the method named after the type
    (``"tool-call-begin"`` → ``owner._tool_call_begin``)."""
    cls = type(owner)
    names = _HANDLER_NAMES.get(cls)
    if names is None:
        candidates = ((kind, "_" + kind.replace("-", "_")) for kind in CHUNK_TYPES)
        names = _HANDLER_NAMES[cls] = [
            (kind, name) for kind, name in candidates if hasattr(cls, name)
        ]
    return {chunk_type: getattr(owner, name) for chunk_type, name in names}


_HANDLER_NAMES: dict[type, list[tuple[str, str]]] = {}


def chunk_methods(cls: type) -> dict[str, Callable[[Any, Any], None]]:
    """`chunk_handlers` for a class, shared by its instances: call ``method(owner, chunk)``.
    An encoder holds no table of bound methods of its own (one fewer dict per stream)."""
    methods = _METHODS.get(cls)
    if methods is None:
        candidates = ((kind, "_" + kind.replace("-", "_")) for kind in CHUNK_TYPES)
        methods = _METHODS[cls] = {
            kind: getattr(cls, name) for kind, name in candidates if hasattr(cls, name)
        }
    return methods


_METHODS: dict[type, dict[str, Callable[[Any, Any], None]]] = {}
