"""Decoder of the assistant transport (SSE of part-addressed chunks) back into flat chunks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

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
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
    UpdateStateChunk,
)
from .decoding import (
    Malformed,
    SSEStreamDecoder,
    check_operations,
    get_int,
    get_opt_str,
    get_str,
    loads,
    require,
    shape_error,
)
from .sse import SSEEvent

__all__ = ["AssistantTransportDecoder"]

_orjson_loads = orjson.loads
_OrjsonError = orjson.JSONDecodeError
_SHAPE_ERRORS = (TypeError, KeyError, AttributeError, ValueError, IndexError)
_QUIET_FINISH_REASONS = ("stop", "tool-calls", "unknown")

Out = list[Any]

# Part kinds (index into `_Part.kind`).
_TEXT, _REASONING, _TOOL, _OTHER = 0, 1, 2, 3


class _Part:
    __slots__ = ("args_open", "kind", "parent_id", "tool_call_id")

    def __init__(
        self,
        kind: int,
        parent_id: str | None = None,
        tool_call_id: str = "",
        args_open: bool = False,
    ) -> None:
        self.kind = kind
        self.parent_id = parent_id
        self.tool_call_id = tool_call_id
        self.args_open = args_open


def _usage(value: dict[str, Any]) -> tuple[int, int]:
    usage = value.get("usage")
    if not isinstance(usage, dict):
        return 0, 0
    return get_int(usage, "inputTokens"), get_int(usage, "outputTokens")


class AssistantTransportDecoder(SSEStreamDecoder):
    """Decode the assistant transport SSE protocol into chunks.

    Part-addressed events become flat chunks again: a text part's deltas become text deltas, a
    reasoning part starts with a ``reasoning-part-start`` chunk (carrying its summary), a tool
    part becomes begin / argument deltas / finish / result. Named ``data`` parts are skipped.
    Reading stops at ``data: [DONE]``.

    Strict mode (default) raises `DecodeError` for a malformed event, an SSE ``event:`` name
    other than ``message``, an event addressed to a part that does not exist, and a body that
    ends without ``[DONE]``; lenient mode drops those with a warning once per kind.
    """

    protocol = "assistant transport"
    missing_end = ("no-done", "the stream ended without the [DONE] marker")

    def reset(self) -> None:
        super().reset()
        self._parts: list[_Part] = []
        self._tool_ids: set[str] = set()
        self._steps_finished = False
        self._handlers: dict[str, Callable[[dict[str, Any], Out], None]] = {
            "part-start": self._part_start,
            "part-finish": self._part_finish,
            "tool-call-args-text-finish": self._args_finish,
            "result": self._result,
            "data": self._data,
            "annotations": self._annotations,
            "update-state": self._update_state,
            "error": self._error,
            "step-start": self._step_start,
            "step-finish": self._step_finish,
            "message-finish": self._message_finish,
        }

    def _end(self, out: list[Any]) -> None:
        self._close_args(out)

    def _decode_events(self, events: list[SSEEvent]) -> list[Any]:
        out: list[Any] = []
        handlers = self._handlers
        coalesce = self.coalesce
        # adjacent text deltas for one part, not yet turned into a chunk
        pending: _Part | None = None
        texts: list[str] = []
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
                    raise Malformed("event", "an event must be a JSON object")
                kind = value.get("type")
                if kind == "text-delta":
                    part = self._part(value, "text-delta")
                    text = value.get("textDelta")
                    if type(text) is not str:
                        raise Malformed("text-delta", "text-delta: 'textDelta' must be a string")
                    if not text:
                        continue
                    if not coalesce:
                        self._delta(part, text, out)
                    elif part is pending:
                        texts.append(text)
                    else:
                        if pending is not None:
                            self._delta(pending, "".join(texts), out)
                        pending = part
                        texts = [text]
                    continue
                if pending is not None:
                    self._delta(pending, "".join(texts), out)
                    pending = None
                handler = handlers.get(kind) if type(kind) is str else None
                if handler is None:
                    require(type(kind) is str, "event", "'type' must be a string")
                    self._unknown(str(kind))
                    continue
                handler(value, out)
            except Malformed as exc:
                self._fail(event.line, exc)
            except _SHAPE_ERRORS as exc:
                self._fail(event.line, shape_error("event", exc))
        if pending is not None:
            self._delta(pending, "".join(texts), out)
        return out

    # -- parts -----------------------------------------------------------------------------

    def _part(self, value: dict[str, Any], kind: str) -> _Part:
        path: Any = value.get("path")
        if type(path) is not list or len(path) != 1 or type(path[0]) is not int:
            raise Malformed(kind, f"{kind}: 'path' must be [part index]")
        index: int = path[0]
        if not 0 <= index < len(self._parts):
            raise Malformed(kind, f"{kind}: no part at index {index}")
        return self._parts[index]

    def _delta(self, part: _Part, text: str, out: Out) -> None:
        kind = part.kind
        if kind == _TEXT:
            out.append(TextDeltaChunk(text, parent_id=part.parent_id))
        elif kind == _REASONING:
            out.append(ReasoningDeltaChunk(text, parent_id=part.parent_id))
        elif kind == _TOOL:
            if part.args_open:
                out.append(ToolCallDeltaChunk(part.tool_call_id, text))
            else:
                self._warn_once("closed-args", "argument text after the arguments closed dropped")
        else:
            self._warn_once("other-delta", "text-delta for a part without text dropped")

    def _part_start(self, value: dict[str, Any], out: Out) -> None:
        kind = "part-start"
        path = value.get("path", [])
        require(path == [], kind, "'path' must be []")
        part: Any = value.get("part")
        require(type(part) is dict, kind, "'part' must be an object")
        part_type = part.get("type")
        parent_id = get_opt_str(part, "parentId", kind)
        if part_type == "text":
            self._parts.append(_Part(_TEXT, parent_id))
        elif part_type == "reasoning":
            summary = get_opt_str(part, "unstable_summary", kind)
            self._parts.append(_Part(_REASONING, parent_id))
            out.append(ReasoningPartStartChunk(summary, parent_id=parent_id))
        elif part_type == "tool-call":
            tool_call_id = get_str(part, "toolCallId", kind)
            tool_name = get_str(part, "toolName", kind)
            if tool_call_id in self._tool_ids:
                raise Malformed("duplicate-tool", f"duplicate tool call id {tool_call_id!r}")
            self._tool_ids.add(tool_call_id)
            self._parts.append(_Part(_TOOL, parent_id, tool_call_id, True))
            out.append(ToolCallBeginChunk(tool_call_id, tool_name, parent_id=parent_id))
        elif part_type == "source":
            chunk = SourceChunk(
                get_str(part, "id", kind),
                get_str(part, "url", kind),
                get_opt_str(part, "sourceType", kind) or "url",
                get_opt_str(part, "title", kind),
                parent_id=parent_id,
            )
            self._parts.append(_Part(_OTHER))
            out.append(chunk)
        elif part_type == "file":
            chunk2 = FileChunk(
                get_str(part, "data", kind), get_str(part, "mimeType", kind), parent_id=parent_id
            )
            self._parts.append(_Part(_OTHER))
            out.append(chunk2)
        else:
            # named data parts and future part types: keep the indices aligned, skip the part
            self._parts.append(_Part(_OTHER))
            self._unknown(f"part:{part_type}")

    def _finish_args(self, part: _Part, out: Out) -> None:
        if part.args_open:
            part.args_open = False
            out.append(ToolCallArgsTextFinishChunk(part.tool_call_id))

    def _close_args(self, out: Out) -> None:
        for part in self._parts:
            if part.args_open:
                self._finish_args(part, out)

    def _part_finish(self, value: dict[str, Any], out: Out) -> None:
        self._finish_args(self._part(value, "part-finish"), out)

    def _args_finish(self, value: dict[str, Any], out: Out) -> None:
        part = self._part(value, "tool-call-args-text-finish")
        require(part.kind == _TOOL, "tool-call-args-text-finish", "not a tool-call part")
        self._finish_args(part, out)

    def _result(self, value: dict[str, Any], out: Out) -> None:
        part = self._part(value, "result")
        require(part.kind == _TOOL, "result", "not a tool-call part")
        require("result" in value, "result", "'result' is missing")
        is_error = value.get("isError", False)
        require(type(is_error) is bool, "result", "'isError' must be a boolean")
        part.args_open = False
        out.append(
            ToolResultChunk(part.tool_call_id, value["result"], value.get("artifact"), is_error)
        )

    # -- message-level events --------------------------------------------------------------

    @staticmethod
    def _data(value: dict[str, Any], out: Out) -> None:
        data: Any = value.get("data")
        require(type(data) is list, "data", "'data' must be an array")
        out.extend(DataChunk(item) for item in data)

    @staticmethod
    def _annotations(value: dict[str, Any], out: Out) -> None:
        annotations: Any = value.get("annotations")
        require(type(annotations) is list, "annotations", "'annotations' must be an array")
        out.append(AnnotationsChunk(annotations))

    @staticmethod
    def _update_state(value: dict[str, Any], out: Out) -> None:
        out.append(UpdateStateChunk(check_operations(value.get("operations"), "update-state")))

    def _error(self, value: dict[str, Any], out: Out) -> None:
        message = get_str(value, "error", "error")
        self._close_args(out)
        out.append(ErrorChunk(message))

    @staticmethod
    def _step_start(value: dict[str, Any], out: Out) -> None:
        out.append(StepStartChunk(get_str(value, "messageId", "step-start")))

    def _step_finish(self, value: dict[str, Any], out: Out) -> None:
        reason = get_str(value, "finishReason", "step-finish")
        continued = value.get("isContinued", False)
        require(type(continued) is bool, "step-finish", "'isContinued' must be a boolean")
        self._steps_finished = True
        input_tokens, output_tokens = _usage(value)
        out.append(StepFinishChunk(reason, input_tokens, output_tokens, continued))

    def _message_finish(self, value: dict[str, Any], out: Out) -> None:
        reason = get_str(value, "finishReason", "message-finish")
        if self._steps_finished:
            return
        input_tokens, output_tokens = _usage(value)
        if input_tokens or output_tokens or reason not in _QUIET_FINISH_REASONS:
            self._steps_finished = True
            out.append(StepFinishChunk(reason, input_tokens, output_tokens))
