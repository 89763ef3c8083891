"""Decoder of RAIS v1 (and the draft extensions) back into chunks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Union

from .._json import dumps
from ..assistant_stream_chunk import (
    ErrorChunk,
    ReasoningDeltaChunk,
    StepFinishChunk,
    TextDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
)
from ..errors import SerializationError
from ..finish_reasons import from_wire_finish_reason
from .decoding import Malformed, StreamDecoder, loads
from .sse import SSEEvent, SSEParser

__all__ = ["MAX_EVENT_BYTES", "RAISDecoder"]

logger = logging.getLogger("assistant_stream_ce.serialization")

#: The most bytes one event (or one line) may hold before decoding fails.
MAX_EVENT_BYTES = 10 * 1024 * 1024

_KNOWN_IGNORED = frozenset({"partial_tool_result"})

Out = list[Any]


class RAISDecoder(StreamDecoder):
    """Decode RAIS bytes (v1 and the draft extensions) into chunks.

    ``text`` → `TextDeltaChunk`; ``error`` → `ErrorChunk`; ``reasoning`` → `ReasoningDeltaChunk`;
    ``tool_call`` (RFC form ``tool``/``input`` or changelog form ``name``/``arguments``) →
    `ToolCallBeginChunk`, one `ToolCallDeltaChunk`, `ToolCallArgsTextFinishChunk`;
    ``tool_result`` → `ToolResultChunk`; ``done`` → a `StepFinishChunk` (``stop``, with the usage
    and finish reason of a ``metadata`` event if one arrives), yielded when the input ends.
    ``data: [DONE]`` counts as ``done``. Unknown event types are ignored (debug log).

    Strict mode (the default) raises `DecodeError` for invalid JSON, events of the wrong shape,
    events after ``done``/``error`` (other than ``metadata``), an unterminated last event and a
    stream that ends without ``done`` or ``error``. Lenient mode drops bad events (warning log),
    parses an unterminated last event and accepts a stream without a terminal event, like the
    reference client. Errors name the line and byte offset. Exceptions raised by the byte
    source itself propagate unchanged.
    """

    protocol = "RAIS stream"

    def __init__(
        self, strict: bool = True, *, coalesce: bool = True, max_event_bytes: int = MAX_EVENT_BYTES
    ) -> None:
        self.max_event_bytes = max_event_bytes
        super().__init__(strict, coalesce=coalesce)

    def reset(self) -> None:
        super().reset()
        self._sse = SSEParser(self.protocol, self.max_event_bytes, show_offsets=True)
        self.terminal: str | None = None
        self._finish: StepFinishChunk | None = None

    def _feed(self, data: bytes) -> list[Any]:
        out: Out = []
        for event in self._sse.feed(data):
            self._event(event, out)
        return out

    def _close(self) -> list[Any]:
        sse = self._sse
        out: Out = []
        tails = sse.close(dispatch_incomplete=not self.strict)
        if sse.incomplete and self.strict:
            raise sse.error(
                "the stream ended inside an event (no blank line after it)",
                sse.lines.line_count if sse.lines.offset else 1,
                self._last_event_offset(),
            )
        for event in tails:
            self._event(event, out)
        if self.terminal is None and self.strict:
            raise sse.error(
                "the stream ended without a done or error event", sse.lines.line_count + 1
            )
        if self._finish is not None:
            out.append(self._finish)
            self._finish = None
        return out

    def _last_event_offset(self) -> int:
        return self._sse._first_offset

    def _bad(self, event: SSEEvent, problem: str) -> None:
        if self.strict:
            raise self._sse.error(problem, event.first_line, event.offset)
        logger.warning(
            "RAIS stream: line %d: %s (event dropped)", event.first_line, problem.replace("%", "%%")
        )

    def _event(self, event: SSEEvent, out: Out) -> None:
        text = event.data
        if text.strip() == "[DONE]":
            if self.terminal is None:
                self._done(None)
            return
        try:
            payload = loads(text)
        except Malformed as exc:
            self._bad(event, f"data is not valid JSON ({exc.detail})")
            return
        if not isinstance(payload, dict):
            self._bad(event, f"data is not a JSON object (got {type(payload).__name__})")
            return
        kind = payload.get("type")
        if not isinstance(kind, str):
            self._bad(event, "event has no string 'type' field")
            return
        if self.terminal is not None and kind != "metadata":
            self._bad(event, f"{kind!r} event after the terminal {self.terminal!r} event")
            return
        handler = _HANDLERS.get(kind)
        if handler is None:
            self._unknown(kind)
            logger.debug("RAIS stream: line %d: ignoring unknown event type %r", event.line, kind)
            return
        problem = handler(self, payload, out)
        if problem is not None:
            self._bad(event, problem)

    def _done(self, metadata: Any) -> None:
        self.terminal = "done"
        if self._finish is None:
            self._finish = StepFinishChunk("stop")
        if isinstance(metadata, dict):
            self._metadata(metadata, [])

    # Handlers return a problem description or None.

    def _text(self, payload: dict[str, Any], out: Out) -> str | None:
        text = payload.get("text")
        if not isinstance(text, str):
            return "'text' event without a string 'text' field"
        if text:
            out.append(TextDeltaChunk(text))
        return None

    def _on_done(self, payload: dict[str, Any], out: Out) -> str | None:
        self._done(payload.get("metadata"))
        return None

    def _error(self, payload: dict[str, Any], out: Out) -> str | None:
        error = payload.get("error")
        if not isinstance(error, str):
            return "'error' event without a string 'error' field"
        self.terminal = "error"
        out.append(ErrorChunk(error))
        return None

    def _reasoning(self, payload: dict[str, Any], out: Out) -> str | None:
        text = payload.get("text")
        if not isinstance(text, str):
            return "'reasoning' event without a string 'text' field"
        if text:
            out.append(ReasoningDeltaChunk(text))
        return None

    def _tool_call(self, payload: dict[str, Any], out: Out) -> str | None:
        tool_call_id = payload.get("id")
        name = payload.get("tool", payload.get("name"))
        if not isinstance(tool_call_id, str) or not isinstance(name, str):
            return "'tool_call' event without string 'id' and 'tool' fields"
        arguments = payload.get("input", payload.get("arguments", {}))
        if isinstance(arguments, str):
            args_text = arguments or "{}"
        else:
            try:
                args_text = dumps(arguments, "tool-call").decode()
            except SerializationError:  # pragma: no cover - parsed JSON always dumps
                return "'tool_call' input cannot be re-encoded"
        out.append(ToolCallBeginChunk(tool_call_id, name))
        out.append(ToolCallDeltaChunk(tool_call_id, args_text))
        out.append(ToolCallArgsTextFinishChunk(tool_call_id))
        return None

    def _tool_result(self, payload: dict[str, Any], out: Out) -> str | None:
        tool_call_id = payload.get("id")
        if not isinstance(tool_call_id, str):
            return "'tool_result' event without a string 'id' field"
        error = payload.get("error")
        if error is not None and not isinstance(error, str):
            return "'tool_result' event with a non-string 'error' field"
        output = payload.get("output")
        if error is not None and output is None:
            output = error
        out.append(ToolResultChunk(tool_call_id, output, is_error=error is not None))
        return None

    def _metadata(self, payload: dict[str, Any], out: Out) -> str | None:
        finish = self._finish
        if finish is None:
            if self.terminal == "error":
                return None  # no step finished; metadata after an error adds nothing
            finish = self._finish = StepFinishChunk("stop")
        tokens = payload.get("tokens")
        if isinstance(tokens, dict):
            input_tokens = tokens.get("input")
            output_tokens = tokens.get("output")
            if isinstance(input_tokens, int) and not isinstance(input_tokens, bool):
                finish.input_tokens = input_tokens
            if isinstance(output_tokens, int) and not isinstance(output_tokens, bool):
                finish.output_tokens = output_tokens
        reason = payload.get("finish_reason")
        if isinstance(reason, str) and reason not in ("error", "abort"):
            finish.finish_reason = from_wire_finish_reason(reason, unknown=reason)
        return None

    def _ignored(self, payload: dict[str, Any], out: Out) -> str | None:
        logger.debug("RAIS stream: ignoring %r event", payload.get("type"))
        return None


_Handler = Callable[[RAISDecoder, dict[str, Any], Out], Union[str, None]]

_HANDLERS: dict[str, _Handler] = {
    "text": RAISDecoder._text,
    "done": RAISDecoder._on_done,
    "error": RAISDecoder._error,
    "reasoning": RAISDecoder._reasoning,
    "tool_call": RAISDecoder._tool_call,
    "tool_result": RAISDecoder._tool_result,
    "metadata": RAISDecoder._metadata,
    **{name: RAISDecoder._ignored for name in _KNOWN_IGNORED},
}
