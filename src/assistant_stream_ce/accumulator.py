"""Fold a stream of chunks into the message it describes — what a backend stores after a reply.

>>> from assistant_stream_ce import TextDeltaChunk, ToolCallBeginChunk, ToolCallDeltaChunk
>>> message = accumulate([
...     TextDeltaChunk("Hello "), TextDeltaChunk("world"),
...     ToolCallBeginChunk("call_1", "search"), ToolCallDeltaChunk("call_1", '{"q": "pa'),
... ])
>>> [part.type for part in message.parts], message.parts[0].text
(['text', 'tool-call'], 'Hello world')
>>> message.parts[1].args, message.parts[1].args_text
({'q': 'pa'}, '{"q": "pa')

The folding rules mirror the official assistant-ui accumulator, so a message accumulated from
chunks equals the one accumulated after a round trip through any protocol that carries them:

- Adjacent text (or reasoning) deltas with the same ``parent_id`` extend one part; any other
  part in between, a ``parent_id`` change, or ``reasoning-part-start`` begins a new part.
- A tool call's argument text closes at ``tool-call-args-text-finish``, at its result, at an
  error and at the end of the stream (`MessageAccumulator.finish`); argument text after that
  is ignored, and a call closed without any text gets ``"{}"``. (A step finish does not close
  it: the data stream decoder sends the finish chunks its ``e`` frame implies.)
- ``update-state`` operations apply to a copy of the initial state (inapplicable ones are
  skipped with a warning).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from typing import Any, Union

import orjson

from .assistant_stream_chunk import chunk_handlers
from .serialization.parts import PartListener, PartMachine, Segment, ToolCall
from .state import StateOperationError, apply_operation, copy_json_value

__all__ = [
    "FilePart",
    "Message",
    "MessageAccumulator",
    "MessagePart",
    "ReasoningPart",
    "SourcePart",
    "Step",
    "TextPart",
    "ToolCallPart",
    "accumulate",
    "accumulate_stream",
    "parse_partial_json",
]

logger = logging.getLogger("assistant_stream_ce.accumulator")


# -- partial JSON ------------------------------------------------------------------------------

_STRING_STOP = re.compile(r'["\\]')
_MISSING = object()


def _strict_loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # lone-surrogate escapes; may raise ValueError


class _Open:
    """One open container of a partial JSON text (a linked stack: a cut point keeps a node)."""

    __slots__ = ("closer", "expect_key", "parent")

    def __init__(self, closer: str, parent: _Open | None, expect_key: bool) -> None:
        self.closer = closer
        self.parent = parent
        self.expect_key = expect_key


def _closers(node: _Open | None) -> str:
    out: list[str] = []
    while node is not None:
        out.append(node.closer)
        node = node.parent
    return "".join(out)


def parse_partial_json(text: str) -> Any:
    """Best-effort value of a JSON text that may be cut anywhere; ``None`` if nothing parses.

    Open strings, arrays and objects are closed; a dangling key, a trailing comma or an
    unfinished literal is dropped: ``'{"a": [1, {"b": "x'`` → ``{"a": [1, {"b": "x"}]}``.
    Linear in the length of the text, whatever its nesting.
    """
    try:
        return _strict_loads(text)
    except (ValueError, RecursionError):
        pass
    top: _Open | None = None  # the innermost open container
    # the last few places where the prefix is complete: (cut index, open containers there)
    safe: list[tuple[int, _Open | None]] = []
    in_string = is_key = False
    escape_at = -1
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if in_string:
            match = _STRING_STOP.search(text, i)
            if match is None:
                i = n
                break
            i = match.start()
            if text[i] == "\\":
                escape_at = i
                i += 2
                continue
            in_string = False
            if not is_key:
                safe.append((i + 1, top))
            i += 1
            continue
        if char == '"':
            in_string = True
            is_key = top is not None and top.expect_key
            escape_at = -1
        elif char == "{" or char == "[":
            top = _Open("}" if char == "{" else "]", top, char == "{")
            safe.append((i + 1, top))
        elif char == "}" or char == "]":
            if top is not None:
                top = top.parent
            safe.append((i + 1, top))
        elif char == ",":
            safe.append((i, top))
            if top is not None and top.closer == "}":
                top.expect_key = True
        elif char == ":" and top is not None:
            top.expect_key = False
        if len(safe) > 64:
            del safe[:-4]
        i += 1
    candidates: list[str] = []
    tail = _closers(top)
    if in_string:
        if not is_key:
            cut = n
            if escape_at >= 0 and (
                escape_at + 2 > n or (text[escape_at + 1] == "u" and n - escape_at < 6)
            ):
                cut = escape_at  # an escape sequence cut in the middle
            candidates.append(text[:cut] + '"' + tail)
    else:
        candidates.append(text + tail)
    candidates.extend(text[:cut] + _closers(node) for cut, node in reversed(safe[-4:]))
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):
            continue
    return None


# -- the message -------------------------------------------------------------------------------


@dataclass
class TextPart:
    """Assistant text."""

    text: str = ""
    parent_id: str | None = None
    type: str = "text"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text, "parent_id": self.parent_id}


@dataclass
class ReasoningPart:
    """Reasoning text, with the summary of a ``reasoning-part-start`` if any."""

    text: str = ""
    summary: str | None = None
    parent_id: str | None = None
    type: str = "reasoning"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "reasoning",
            "text": self.text,
            "summary": self.summary,
            "parent_id": self.parent_id,
        }


@dataclass
class ToolCallPart:
    """A tool call: its raw argument text, parsed arguments and result."""

    tool_call_id: str
    tool_name: str
    args_text: str = ""
    #: Whether the argument text is complete.
    args_complete: bool = False
    result: Any = None
    #: Whether a result arrived (a result may be ``None``).
    has_result: bool = False
    artifact: Any = None
    is_error: bool = False
    parent_id: str | None = None
    type: str = "tool-call"
    #: The id of the approval the call waits for (``tool-approval-request``), if any.
    approval_id: str | None = None
    #: Whether the user denied the call (``tool-output-denied``).
    denied: bool = False
    _parsed: tuple[str, Any] = field(default=("", {}), repr=False, compare=False)

    @property
    def args(self) -> Any:
        """The parsed arguments; while they stream, the best-effort parse of the text so far."""
        text = self.args_text
        if self._parsed[0] != text:
            value = parse_partial_json(text) if text.strip() else None
            self._parsed = (text, {} if value is None else value)
        return self._parsed[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "tool-call",
            "tool_call_id": self.tool_call_id,
            "tool_name": self.tool_name,
            "args_text": self.args_text,
            "args": self.args,
            "args_complete": self.args_complete,
            "result": self.result,
            "has_result": self.has_result,
            "artifact": self.artifact,
            "is_error": self.is_error,
            "parent_id": self.parent_id,
            # approval fields only when set, so existing stored messages keep their shape
            **({"approval_id": self.approval_id} if self.approval_id is not None else {}),
            **({"denied": True} if self.denied else {}),
        }


@dataclass
class SourcePart:
    """A cited source."""

    id: str
    url: str
    source_type: str = "url"
    title: str | None = None
    parent_id: str | None = None
    type: str = "source"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "source",
            "id": self.id,
            "url": self.url,
            "source_type": self.source_type,
            "title": self.title,
            "parent_id": self.parent_id,
        }


@dataclass
class FilePart:
    """A file (base64 data or a URL)."""

    data: str
    mime_type: str
    parent_id: str | None = None
    type: str = "file"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "file",
            "data": self.data,
            "mime_type": self.mime_type,
            "parent_id": self.parent_id,
        }


MessagePart = Union[TextPart, ReasoningPart, ToolCallPart, SourcePart, FilePart]


@dataclass
class Step:
    """One model step: started by ``step-start`` (if any), ended by ``step-finish``."""

    message_id: str | None = None
    finish_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    is_continued: bool = False
    finished: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "finish_reason": self.finish_reason,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens},
            "is_continued": self.is_continued,
            "finished": self.finished,
        }


@dataclass
class Message:
    """An assistant message folded from chunks (see `MessageAccumulator`)."""

    parts: list[MessagePart] = field(default_factory=list)
    state: Any = None
    data: list[Any] = field(default_factory=list)
    annotations: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    #: Whether the stream ended (`MessageAccumulator.finish` was called).
    finished: bool = False

    @property
    def text(self) -> str:
        """All text parts joined."""
        return "".join(part.text for part in self.parts if isinstance(part, TextPart))

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        """The tool-call parts, in order."""
        return [part for part in self.parts if isinstance(part, ToolCallPart)]

    @property
    def usage(self) -> dict[str, int]:
        """Token usage summed over the steps."""
        return {
            "input_tokens": sum(step.input_tokens for step in self.steps),
            "output_tokens": sum(step.output_tokens for step in self.steps),
        }

    @property
    def finish_reason(self) -> str | None:
        """``None`` while streaming; then ``error`` after an error, ``tool-calls`` while a call
        waits for its result, else the last step's reason (``stop`` by default)."""
        if not self.finished:
            return None
        if self.errors:
            return "error"
        if any(not call.has_result for call in self.tool_calls):
            return "tool-calls"
        reasons = [step.finish_reason for step in self.steps if step.finish_reason is not None]
        if not reasons or reasons[-1] == "tool-calls":
            return "stop"
        return reasons[-1]

    @property
    def status(self) -> str:
        """``running``, ``complete``, ``requires-action`` (a call waits) or ``incomplete``."""
        reason = self.finish_reason
        if reason is None:
            return "running"
        if reason == "tool-calls":
            return "requires-action"
        if reason in ("stop", "unknown"):
            return "complete"
        return "incomplete"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole message."""
        return {
            "parts": [part.to_dict() for part in self.parts],
            "state": self.state,
            "data": list(self.data),
            "annotations": list(self.annotations),
            "errors": list(self.errors),
            "steps": [step.to_dict() for step in self.steps],
            "status": self.status,
            "finish_reason": self.finish_reason,
            "usage": self.usage,
        }


# -- the accumulator ---------------------------------------------------------------------------


class MessageAccumulator(PartListener):
    """Fold chunks, one `add` at a time, into a `Message` (read it any time via ``message``).

    Call `finish` when the stream ends: it closes argument texts still open and settles the
    message's status.
    """

    def __init__(self, initial_state: Any = None) -> None:
        self._message = Message(state=copy_json_value(initial_state))
        self._parts = PartMachine(self, keep_args=True)
        # the text/reasoning part that deltas extend, and its pieces not yet joined
        self._tail: TextPart | ReasoningPart | None = None
        self._tail_pieces: list[str] = []
        self._handlers = chunk_handlers(self)

    @property
    def message(self) -> Message:
        """The message so far (the same object is updated by later chunks)."""
        self._flush()
        return self._message

    def add(self, chunk: Any) -> None:
        """Fold one chunk in. Chunks of unknown types are ignored."""
        kind = chunk.type
        if kind == "text-delta":
            self._text_delta(chunk)
            return
        handler = self._handlers.get(kind)
        if handler is None:
            logger.debug("accumulator: chunk type %r ignored", kind)
            return
        handler(chunk)

    def finish(self) -> Message:
        """The stream ended: close open argument texts and settle the status."""
        self._parts.close_all_args()
        self._flush()
        self._message.finished = True
        return self._message

    # -- parts (the part machine's listener) -------------------------------------------------

    def _flush(self) -> None:
        if self._tail_pieces and self._tail is not None:
            self._tail.text += "".join(self._tail_pieces)
            self._tail_pieces = []
        for tool in self._parts.tools.values():
            if tool.args_open:
                tool.tag.args_text = tool.args_text

    def _append(self, part: MessagePart) -> None:
        self._flush()
        self._tail = None
        self._message.parts.append(part)

    def segment_opened(self, segment: Segment) -> None:
        part: TextPart | ReasoningPart
        if segment.kind == "text":
            part = TextPart(parent_id=segment.parent_id)
        else:
            part = ReasoningPart(summary=segment.summary, parent_id=segment.parent_id)
        self._append(part)
        self._tail = part

    def segment_closed(self, segment: Segment) -> None:
        self._flush()
        self._tail = None

    def tool_opened(self, tool: ToolCall) -> None:
        part = tool.tag = ToolCallPart(tool.id, tool.name, parent_id=tool.parent_id)
        self._append(part)

    def args_closed(self, tool: ToolCall, last_text: str) -> None:
        part: ToolCallPart = tool.tag
        part.args_text = tool.args_text or "{}"
        part.args_complete = True

    # -- text and reasoning ------------------------------------------------------------------

    def _text_delta(self, chunk: Any) -> None:
        text = chunk.text_delta
        if text:
            self._parts.segment_for("text", chunk.parent_id)
            self._tail_pieces.append(text)

    def _reasoning_delta(self, chunk: Any) -> None:
        text = chunk.reasoning_delta
        if text:
            self._parts.segment_for("reasoning", chunk.parent_id)
            self._tail_pieces.append(text)

    def _reasoning_part_start(self, chunk: Any) -> None:
        self._parts.start_segment("reasoning", chunk.parent_id, chunk.unstable_summary)

    # -- tool calls --------------------------------------------------------------------------

    def _tool_call_begin(self, chunk: Any) -> None:
        if self._parts.begin_tool(chunk.tool_call_id, chunk.tool_name, chunk.parent_id) is None:
            logger.warning("accumulator: duplicate tool call id %r ignored", chunk.tool_call_id)

    def _tool_call_delta(self, chunk: Any) -> None:
        if self._parts.args_delta(chunk.tool_call_id, chunk.args_text_delta) is None:
            logger.debug("accumulator: argument text for a closed or unknown call ignored")

    def _tool_call_args_text_finish(self, chunk: Any) -> None:
        self._parts.finish_args(chunk.tool_call_id, chunk.args_text_delta)

    def _tool_approval_request(self, chunk: Any) -> None:
        tool = self._parts.tools.get(chunk.tool_call_id)
        if tool is None:
            logger.warning("accumulator: approval for unknown tool call %r", chunk.tool_call_id)
            return
        tool.tag.approval_id = chunk.approval_id

    def _tool_output_denied(self, chunk: Any) -> None:
        tool = self._parts.tools.get(chunk.tool_call_id)
        if tool is None:
            return  # the call belongs to an earlier message
        tool.tag.denied = True

    def _tool_result(self, chunk: Any) -> None:
        tool = self._parts.result(chunk.tool_call_id)
        if tool is None:
            logger.warning(
                "accumulator: result for unknown tool call %r ignored", chunk.tool_call_id
            )
            return
        part: ToolCallPart = tool.tag
        part.result = chunk.result
        part.artifact = chunk.artifact
        part.is_error = bool(chunk.is_error)
        part.has_result = True

    # -- other parts and message-level chunks ------------------------------------------------

    def _source(self, chunk: Any) -> None:
        self._parts.standalone()
        self._append(
            SourcePart(chunk.id, chunk.url, chunk.source_type, chunk.title, chunk.parent_id)
        )

    def _file(self, chunk: Any) -> None:
        self._parts.standalone()
        self._append(FilePart(chunk.data, chunk.mime_type, chunk.parent_id))

    def _data(self, chunk: Any) -> None:
        self._message.data.append(chunk.data)

    def _annotations(self, chunk: Any) -> None:
        self._message.annotations.extend(chunk.annotations)

    def _error(self, chunk: Any) -> None:
        self._parts.close_all_args()
        self._message.errors.append(chunk.error)

    def _update_state(self, chunk: Any) -> None:
        message = self._message
        for operation in chunk.operations:
            try:
                message.state = apply_operation(message.state, operation)
            except StateOperationError as exc:
                logger.warning("accumulator: state operation skipped (%s)", exc)

    def _step_start(self, chunk: Any) -> None:
        self._message.steps.append(Step(message_id=chunk.message_id))

    def _step_finish(self, chunk: Any) -> None:
        steps = self._message.steps
        if not steps or steps[-1].finished:
            steps.append(Step())
        step = steps[-1]
        step.finish_reason = chunk.finish_reason
        step.input_tokens = int(chunk.input_tokens or 0)
        step.output_tokens = int(chunk.output_tokens or 0)
        step.is_continued = bool(chunk.is_continued)
        step.finished = True


def accumulate(chunks: Iterable[Any], initial_state: Any = None) -> Message:
    """Fold a complete sequence of chunks into its finished `Message`."""
    accumulator = MessageAccumulator(initial_state)
    add = accumulator.add
    for chunk in chunks:
        add(chunk)
    return accumulator.finish()


async def accumulate_stream(chunks: AsyncIterable[Any], initial_state: Any = None) -> Message:
    """Fold an async stream of chunks (a run, or a decoder's output) into its `Message`."""
    accumulator = MessageAccumulator(initial_state)
    add = accumulator.add
    async for chunk in chunks:
        add(chunk)
    return accumulator.finish()
