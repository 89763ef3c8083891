"""Decoder of the Vercel AI SDK UI message stream back into flat chunks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .._json import dumps
from ..assistant_stream_chunk import (
    AnnotationsChunk,
    DataChunk,
    ErrorChunk,
    FileChunk,
    ReasoningDeltaChunk,
    ReasoningPartStartChunk,
    SourceChunk,
    StepFinishChunk,
    StepStartChunk,
    TextDeltaChunk,
    ToolApprovalRequestChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolOutputDeniedChunk,
    ToolResultChunk,
    UpdateStateChunk,
)
from ..errors import SerializationError
from .decoding import (
    Malformed,
    SSEStreamDecoder,
    get_int,
    get_opt_str,
    get_str,
    loads,
    require,
    shape_error,
)
from .sse import SSEEvent

__all__ = ["UIMessageStreamDecoder"]

_orjson_loads = orjson.loads
_OrjsonError = orjson.JSONDecodeError
_SHAPE_ERRORS = (TypeError, KeyError, AttributeError, ValueError, IndexError)

Out = list[Any]


class _Tool:
    __slots__ = ("args_open", "has_args", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.args_open = True
        self.has_args = False


def _file_data(url: str, media_type: str) -> str:
    """A ``file`` chunk's data: the base64 of a ``data:<media type>;base64,`` URL, else the URL."""
    prefix = f"data:{media_type};base64,"
    return url[len(prefix) :] if url.startswith(prefix) else url


class UIMessageStreamDecoder(SSEStreamDecoder):
    """Decode a UI message stream (npm ``ai`` 5, 6, 7) into chunks.

    ``start-step`` becomes ``step-start`` (with ``start``'s ``messageId``); a ``finish-step``
    is held until the next step or ``finish``, whose ``finishReason`` and
    ``messageMetadata.usage`` the last step then reports. ``reasoning-start`` becomes
    ``reasoning-part-start``; tool chunks become begin / argument deltas / finish / result
    (``tool-output-error`` is an error result with its ``errorText``). ``data-state`` becomes a
    root ``set`` of the state, ``data-annotations`` annotations, ``data-data`` the data value,
    any other ``data-*`` chunk a data chunk holding it whole. Reading stops at ``[DONE]``.

    Strict mode (default) raises `DecodeError` for a malformed chunk, a delta or end for a part
    that is not open, a tool chunk for an unknown call, an SSE ``event:`` name other than
    ``message`` and a body that ends without ``[DONE]``; lenient mode drops those with a warning
    once per kind. Unknown chunk types are skipped in both modes.
    """

    protocol = "ui message stream"
    missing_end = ("no-done", "the stream ended without the [DONE] marker")

    def reset(self) -> None:
        super().reset()
        self._message_id = ""
        self._texts: set[str] = set()
        self._reasoning: set[str] = set()
        self._tools: dict[str, _Tool] = {}
        self._pending_step = False
        self._handlers: dict[str, Callable[[dict[str, Any], Out], None]] = {
            "start": self._start,
            "start-step": self._start_step,
            "finish-step": self._finish_step,
            "text-start": self._text_start,
            "text-end": self._text_end,
            "reasoning-start": self._reasoning_start,
            "reasoning-end": self._reasoning_end,
            "tool-input-start": self._tool_input_start,
            "tool-input-delta": self._tool_input_delta,
            "tool-input-available": self._tool_input_available,
            "tool-input-error": self._tool_input_available,
            "tool-output-available": self._tool_output,
            "tool-output-error": self._tool_output,
            "tool-approval-request": self._tool_approval_request,
            "tool-output-denied": self._tool_output_denied,
            "source-url": self._source_url,
            "source-document": self._source_document,
            "file": self._file,
            "error": self._error,
            "finish": self._finish,
            "abort": self._abort,
            "message-metadata": self._ignore,
        }

    def _end(self, out: list[Any]) -> None:
        self._close_args(out)
        self._flush_step(out, "unknown", 0, 0)

    def _decode_events(self, events: list[SSEEvent]) -> list[Any]:
        out: list[Any] = []
        handlers = self._handlers
        for event in events:
            if self.done:
                break
            data = event.data
            try:
                if event.event is not None and event.event != "message":
                    raise Malformed("event", f"unexpected SSE event type {event.event!r}")
                if data == "[DONE]":
                    self.done = True
                    break
                value = loads(data)
                if type(value) is not dict:
                    raise Malformed("chunk", "a chunk must be a JSON object")
                kind = value.get("type")
                if kind == "text-delta":
                    self._text_delta(value, out)
                    continue
                if kind == "reasoning-delta":
                    self._reasoning_delta(value, out)
                    continue
                if type(kind) is not str:
                    raise Malformed("chunk", "chunk: 'type' must be a string")
                handler = handlers.get(kind)
                if handler is None:
                    if kind.startswith("data-"):
                        self._data(kind, value, out)
                    else:
                        self._unknown(str(kind))
                    continue
                handler(value, out)
            except Malformed as exc:
                self._fail(event.line, exc)
            except _SHAPE_ERRORS as exc:
                self._fail(event.line, shape_error("chunk", exc))
        if self.coalesce and len(out) > 1:
            out = _merge_deltas(out)
        return out

    # -- steps and the message -------------------------------------------------------------

    def _start(self, value: dict[str, Any], out: Out) -> None:
        message_id = get_opt_str(value, "messageId", "start")
        if message_id is not None:
            self._message_id = message_id

    def _start_step(self, value: dict[str, Any], out: Out) -> None:
        self._flush_step(out, "unknown", 0, 0)
        out.append(StepStartChunk(self._message_id))

    def _finish_step(self, value: dict[str, Any], out: Out) -> None:
        self._close_args(out)
        self._flush_step(out, "unknown", 0, 0)
        self._pending_step = True

    def _flush_step(self, out: Out, reason: str, input_tokens: int, output_tokens: int) -> None:
        if self._pending_step:
            self._pending_step = False
            out.append(StepFinishChunk(reason, input_tokens, output_tokens))

    def _finish(self, value: dict[str, Any], out: Out) -> None:
        reason = get_opt_str(value, "finishReason", "finish") or "unknown"
        metadata = value.get("messageMetadata")
        usage = metadata.get("usage") if type(metadata) is dict else None
        input_tokens = get_int(usage, "inputTokens")
        output_tokens = get_int(usage, "outputTokens")
        self._close_args(out)
        if self._pending_step:
            self._flush_step(out, reason, input_tokens, output_tokens)
        elif input_tokens or output_tokens or reason not in ("stop", "tool-calls", "unknown"):
            out.append(StepFinishChunk(reason, input_tokens, output_tokens))

    def _abort(self, value: dict[str, Any], out: Out) -> None:
        get_opt_str(value, "reason", "abort")
        self._close_args(out)

    @staticmethod
    def _ignore(value: dict[str, Any], out: Out) -> None:
        return None

    def _error(self, value: dict[str, Any], out: Out) -> None:
        message = get_str(value, "errorText", "error")
        self._close_args(out)
        out.append(ErrorChunk(message))

    # -- text and reasoning ----------------------------------------------------------------

    def _text_start(self, value: dict[str, Any], out: Out) -> None:
        self._texts.add(get_str(value, "id", "text-start"))

    def _text_delta(self, value: dict[str, Any], out: Out) -> None:
        part_id = get_str(value, "id", "text-delta")
        delta = get_str(value, "delta", "text-delta")
        require(part_id in self._texts, "text-delta", f"no open text part {part_id!r}")
        if delta:
            out.append(TextDeltaChunk(delta))

    def _text_end(self, value: dict[str, Any], out: Out) -> None:
        part_id = get_str(value, "id", "text-end")
        require(part_id in self._texts, "text-end", f"no open text part {part_id!r}")
        self._texts.discard(part_id)

    def _reasoning_start(self, value: dict[str, Any], out: Out) -> None:
        self._reasoning.add(get_str(value, "id", "reasoning-start"))
        out.append(ReasoningPartStartChunk())

    def _reasoning_delta(self, value: dict[str, Any], out: Out) -> None:
        part_id = get_str(value, "id", "reasoning-delta")
        delta = get_str(value, "delta", "reasoning-delta")
        require(
            part_id in self._reasoning, "reasoning-delta", f"no open reasoning part {part_id!r}"
        )
        if delta:
            out.append(ReasoningDeltaChunk(delta))

    def _reasoning_end(self, value: dict[str, Any], out: Out) -> None:
        part_id = get_str(value, "id", "reasoning-end")
        require(part_id in self._reasoning, "reasoning-end", f"no open reasoning part {part_id!r}")
        self._reasoning.discard(part_id)

    # -- tools -----------------------------------------------------------------------------

    def _tool_input_start(self, value: dict[str, Any], out: Out) -> None:
        tool_call_id = get_str(value, "toolCallId", "tool-input-start")
        tool_name = get_str(value, "toolName", "tool-input-start")
        if tool_call_id in self._tools:
            raise Malformed("duplicate-tool", f"duplicate tool call id {tool_call_id!r}")
        self._tools[tool_call_id] = _Tool(tool_name)
        out.append(ToolCallBeginChunk(tool_call_id, tool_name))

    def _tool(self, value: dict[str, Any], kind: str) -> tuple[str, _Tool]:
        tool_call_id = get_str(value, "toolCallId", kind)
        tool = self._tools.get(tool_call_id)
        if tool is None:
            raise Malformed(kind, f"{kind}: unknown tool call {tool_call_id!r}")
        return tool_call_id, tool

    def _tool_input_delta(self, value: dict[str, Any], out: Out) -> None:
        kind = "tool-input-delta"
        tool_call_id, tool = self._tool(value, kind)
        delta = get_str(value, "inputTextDelta", kind)
        if not tool.args_open:
            self._warn_once("closed-args", "argument text after the arguments closed dropped")
            return
        if delta:
            tool.has_args = True
            out.append(ToolCallDeltaChunk(tool_call_id, delta))

    def _tool_input_available(self, value: dict[str, Any], out: Out) -> None:
        kind = str(value["type"])
        tool_call_id = get_str(value, "toolCallId", kind)
        tool = self._tools.get(tool_call_id)
        if tool is None:
            # A complete call without a prior start: begin it with its whole input.
            tool_name = get_str(value, "toolName", kind)
            tool = self._tools[tool_call_id] = _Tool(tool_name)
            out.append(ToolCallBeginChunk(tool_call_id, tool_name))
            text = _input_text(value.get("input"), kind)
            if text:
                tool.has_args = True
                out.append(ToolCallDeltaChunk(tool_call_id, text))
        if kind == "tool-input-error":
            get_str(value, "errorText", kind)
        if tool.args_open:
            tool.args_open = False
            out.append(ToolCallArgsTextFinishChunk(tool_call_id))

    def _tool_output(self, value: dict[str, Any], out: Out) -> None:
        kind = str(value["type"])
        tool_call_id, tool = self._tool(value, kind)
        if kind == "tool-output-error":
            result: Any = get_str(value, "errorText", kind)
            is_error = True
        else:
            require("output" in value, kind, "'output' is missing")
            result = value["output"]
            is_error = False
        tool.args_open = False
        out.append(ToolResultChunk(tool_call_id, result, None, is_error))

    @staticmethod
    def _tool_approval_request(value: dict[str, Any], out: Out) -> None:
        kind = "tool-approval-request"
        tool_call_id = get_str(value, "toolCallId", kind)
        out.append(ToolApprovalRequestChunk(tool_call_id, get_str(value, "approvalId", kind)))

    @staticmethod
    def _tool_output_denied(value: dict[str, Any], out: Out) -> None:
        out.append(ToolOutputDeniedChunk(get_str(value, "toolCallId", "tool-output-denied")))

    def _close_args(self, out: Out) -> None:
        for tool_call_id, tool in self._tools.items():
            if tool.args_open:
                tool.args_open = False
                out.append(ToolCallArgsTextFinishChunk(tool_call_id))

    # -- sources, files, data --------------------------------------------------------------

    @staticmethod
    def _source_url(value: dict[str, Any], out: Out) -> None:
        kind = "source-url"
        out.append(
            SourceChunk(
                get_str(value, "sourceId", kind),
                get_str(value, "url", kind),
                "url",
                get_opt_str(value, "title", kind),
            )
        )

    @staticmethod
    def _source_document(value: dict[str, Any], out: Out) -> None:
        kind = "source-document"
        out.append(
            SourceChunk(
                get_str(value, "sourceId", kind),
                "",
                "document",
                get_str(value, "title", kind),
            )
        )

    @staticmethod
    def _file(value: dict[str, Any], out: Out) -> None:
        media_type = get_str(value, "mediaType", "file")
        out.append(FileChunk(_file_data(get_str(value, "url", "file"), media_type), media_type))

    @staticmethod
    def _data(kind: str, value: dict[str, Any], out: Out) -> None:
        require("data" in value, kind, "'data' is missing")
        data = value["data"]
        if kind == "data-state":
            out.append(UpdateStateChunk([{"type": "set", "path": [], "value": data}]))
        elif kind == "data-annotations":
            require(type(data) is list, kind, "'data' must be an array")
            out.append(AnnotationsChunk(data))
        elif kind == "data-data":
            out.append(DataChunk(data))
        else:
            out.append(DataChunk(value))


def _input_text(value: Any, kind: str) -> str:
    """The argument text of a call that arrived complete (a string input is taken as is)."""
    if value is None:
        return ""
    if type(value) is str:
        return value
    try:
        return dumps(value, kind).decode()
    except SerializationError as exc:  # pragma: no cover - parsed JSON always serialises
        raise Malformed(kind, str(exc)) from None


def _merge_deltas(chunks: list[Any]) -> list[Any]:
    """Join adjacent text, reasoning and argument deltas of one target (one read's worth)."""
    out: list[Any] = []
    pieces: list[str] = []
    key: tuple[str, str] | None = None
    for chunk in chunks:
        kind = chunk.type
        if kind == "text-delta":
            new_key, text = (kind, ""), chunk.text_delta
        elif kind == "reasoning-delta":
            new_key, text = (kind, ""), chunk.reasoning_delta
        elif kind == "tool-call-delta":
            new_key, text = (kind, chunk.tool_call_id), chunk.args_text_delta
        else:
            if key is not None:
                out.append(_delta(key, pieces))
                key = None
            out.append(chunk)
            continue
        if new_key != key:
            if key is not None:
                out.append(_delta(key, pieces))
            key, pieces = new_key, []
        pieces.append(text)
    if key is not None:
        out.append(_delta(key, pieces))
    return out


def _delta(key: tuple[str, str], pieces: list[str]) -> Any:
    text = "".join(pieces)
    if key[0] == "text-delta":
        return TextDeltaChunk(text)
    if key[0] == "reasoning-delta":
        return ReasoningDeltaChunk(text)
    return ToolCallDeltaChunk(key[1], text)
