"""RAIS v1 (react-ai-stream): SSE events ``text``, ``done`` and ``error``, one ``data:`` line each.

Read by react-ai-stream's ``useAIChat`` hooks (React, Vue) and anything following the RAIS spec.

- Text deltas → ``{"type":"text","text":...}``; a successful run ends with ``{"type":"done"}``.
- An error → ``{"type":"error","error":...}``; it is terminal: nothing follows it, not even
  ``done``. Secrets passed as ``redact`` never appear in it, whole or in part.
- Everything else is dropped in v1 (the spec forbids the reserved types). The draft RFC
  extensions are opt-in (``extensions=True`` or a collection of names):
  ``"reasoning"`` (RFC-0003) → ``reasoning`` events; ``"tool_calls"`` (RFC-0001) → ``tool_call``
  with the parsed ``input`` once its arguments are complete, ``tool_result``; ``"metadata"``
  (RFC-0002) → one ``metadata`` event (model, tokens, elapsed time, finish reason) after the
  terminal event.
- Framing: LF only, ``data: `` with one space, single-line compact JSON, ``id: <n>`` before
  every event (``event_ids=False`` turns them off); keepalive ``: keep-alive``.

`RAISResponse` answers a request carrying ``Last-Event-ID`` with ``204 No Content`` (a run is
not resumable). `RAISDecoder` turns RAIS bytes back into chunks.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal, Union

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .._json import dumps, dumps_text, escape_line_separators
from ..assistant_stream_chunk import (
    AssistantStreamChunk,
    ErrorChunk,
    ReasoningDeltaChunk,
    StepFinishChunk,
    TextDeltaChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolResultChunk,
)
from ..errors import DecodeError, SerializationError
from .assistant_stream_response import (
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_WRITE_INTERVAL,
    AssistantStreamResponse,
    HeartbeatOption,
)
from .stream_encoder import StreamEncoder

__all__ = [
    "RAIS_EXTENSIONS",
    "RAISDecoder",
    "RAISEncoder",
    "RAISExtension",
    "RAISResponse",
    "redact_secrets",
    "resolve_extensions",
]

logger = logging.getLogger("assistant_stream_ce.serialization")

Emit = Callable[[bytes], None]
RAISExtension = Literal["reasoning", "tool_calls", "metadata"]
ExtensionsOption = Union[bool, Iterable[RAISExtension], None]

#: The draft RFC extensions an encoder can emit when asked to.
RAIS_EXTENSIONS: frozenset[str] = frozenset({"reasoning", "tool_calls", "metadata"})

#: What an error event says when the run failed without saying why.
GENERIC_ERROR = "The response failed because of an internal error."

_DONE_PAYLOAD = b'{"type":"done"}'
_FINISH_REASONS = {"tool-calls": "tool_calls", "content-filter": "content_filter"}


def resolve_extensions(extensions: ExtensionsOption) -> frozenset[str]:
    """The set of extension names to emit: True → all, False/None → none.

    Raises ValueError for an unknown name (or a bare string instead of a collection).
    """
    if extensions is True:
        return RAIS_EXTENSIONS
    if extensions is None or extensions is False:
        return frozenset()
    if isinstance(extensions, str):
        raise ValueError(
            f"extensions must be True, False or a collection of names, got {extensions!r}"
        )
    names = frozenset(extensions)
    unknown = names - RAIS_EXTENSIONS
    if unknown:
        raise ValueError(
            f"unknown RAIS extension(s) {sorted(unknown)}; known: {sorted(RAIS_EXTENSIONS)}"
        )
    return names


# -- secrets ------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9_\-.+/=]+")
_REDACTED = "[redacted]"
# A token of the message that shares this many consecutive characters with a secret is redacted.
_MIN_SHARED = 4
# Secrets shorter than this are only redacted as a whole (short fragments would hit ordinary words).
_MIN_FRAGMENT_SECRET = 8


def redact_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """Remove every secret from ``text``, whole or in part.

    Each occurrence of a secret is replaced by ``[redacted]``, and so is every word-like token
    that shares at least four consecutive characters with a secret (masked echoes such as
    ``sk-ab*****wxyz`` leave such fragments).
    """
    keys = [secret for secret in secrets if secret]
    if not keys:
        return text
    for key in keys:
        if key in text:
            text = text.replace(key, _REDACTED)
    long_keys = [key for key in keys if len(key) >= _MIN_FRAGMENT_SECRET]
    if not long_keys:
        return text

    def shares_fragment(token: str) -> bool:
        if len(token) < _MIN_SHARED or token == _REDACTED:
            return False
        for start in range(len(token) - _MIN_SHARED + 1):
            fragment = token[start : start + _MIN_SHARED]
            if any(fragment in key for key in long_keys):
                return True
        return False

    return _TOKEN.sub(
        lambda match: _REDACTED if shares_fragment(match.group()) else match.group(), text
    )


# -- encoder ------------------------------------------------------------------------------------


class _PendingToolCall:
    __slots__ = ("args", "name", "sent")

    def __init__(self, name: str) -> None:
        self.name = name
        self.args: list[str] = []
        self.sent = False


def _parse_arguments(text: str) -> Any:
    """A tool call's ``input``: the parsed argument JSON (``""`` → ``{}``), else the raw text."""
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return text


class RAISEncoder(StreamEncoder):
    """Encoder for RAIS v1 server-sent events (draft extensions opt-in, see the module doc)."""

    media_type = "text/event-stream"
    keepalive = b": keep-alive\n\n"
    headers: ClassVar[dict[str, str]] = {
        "Cache-Control": "no-cache, no-transform",
        "Connection": "keep-alive",
        "X-Accel-Buffering": "no",
    }

    def __init__(
        self,
        *,
        extensions: ExtensionsOption = False,
        event_ids: bool = True,
        model: str | None = None,
        text_separator: str = "",
        redact: Iterable[str | None] = (),
    ) -> None:
        enabled = resolve_extensions(extensions)
        self.extensions = enabled
        self.event_ids = event_ids
        self.model = model
        self.text_separator = text_separator
        self.redact = tuple(secret for secret in redact if secret)
        self._reasoning = "reasoning" in enabled
        self._tool_calls = "tool_calls" in enabled
        self._metadata = "metadata" in enabled
        self._next_id = 1
        self._terminal: str | None = None
        self._tools: dict[str, _PendingToolCall] = {}
        self._text_sent = False
        self._text_broken = False
        self._input_tokens = 0
        self._output_tokens = 0
        self._usage_reported = False
        self._finish_reason: str | None = None
        self._started = time.monotonic()

    @property
    def closed(self) -> bool:
        """True once the terminal event (``done`` or ``error``) was written."""
        return self._terminal is not None

    # -- public encoding API --------------------------------------------------------------

    def encode_batch(self, chunks: list[Any]) -> bytes:
        return b"".join(self.encode_events(chunks))

    def finish(self, failed: bool = False) -> bytes:
        return b"".join(self.finish_events(failed))

    def encode_events(self, chunks: list[Any]) -> list[bytes]:
        """Like `encode_batch`, one ``bytes`` per event."""
        out: list[bytes] = []
        emit = out.append
        for chunk in chunks:
            if self._terminal is not None:
                break
            kind = chunk.type
            if kind == "text-delta":
                self._text(chunk.text_delta, emit)
            elif kind == "error":
                self._error(str(chunk.error), emit)
            elif kind == "reasoning-delta":
                if self._reasoning and chunk.reasoning_delta:
                    self._payload(
                        b'{"type":"reasoning","text":' + dumps_text(chunk.reasoning_delta) + b"}",
                        emit,
                    )
            elif kind == "tool-call-begin":
                self._text_broken = True
                if self._tool_calls and chunk.tool_call_id not in self._tools:
                    self._tools[chunk.tool_call_id] = _PendingToolCall(chunk.tool_name)
            elif kind == "tool-call-delta":
                tool = self._tools.get(chunk.tool_call_id)
                if tool is not None and not tool.sent:
                    tool.args.append(chunk.args_text_delta)
            elif kind == "tool-call-args-text-finish":
                tool = self._tools.get(chunk.tool_call_id)
                if tool is not None:
                    self._send_tool_call(chunk.tool_call_id, tool, emit)
            elif kind == "tool-result":
                self._text_broken = True
                if self._tool_calls:
                    self._tool_result(chunk, emit)
            elif kind == "step-finish":
                self._text_broken = True
                self._finish_reason = chunk.finish_reason
                if chunk.input_tokens or chunk.output_tokens:
                    self._usage_reported = True
                self._input_tokens += int(chunk.input_tokens or 0)
                self._output_tokens += int(chunk.output_tokens or 0)
        return out

    def finish_events(self, failed: bool = False) -> list[bytes]:
        """Like `finish`, one ``bytes`` per event."""
        out: list[bytes] = []
        emit = out.append
        if self._terminal is None:
            if failed:
                self._error(GENERIC_ERROR, emit)
            else:
                for tool_call_id, tool in self._tools.items():
                    self._send_tool_call(tool_call_id, tool, emit)
                self._terminal = "done"
                self._payload(_DONE_PAYLOAD, emit)
        if self._metadata:
            self._payload(dumps(self.metadata(), "metadata"), emit)
            self._metadata = False
        return out

    def metadata(self) -> dict[str, Any]:
        """The RFC-0002 ``metadata`` event for what was encoded so far."""
        data: dict[str, Any] = {"type": "metadata"}
        if self.model is not None:
            data["model"] = self.model
        if self._usage_reported:
            data["tokens"] = {
                "input": self._input_tokens,
                "output": self._output_tokens,
                "total": self._input_tokens + self._output_tokens,
            }
        data["elapsed_ms"] = int((time.monotonic() - self._started) * 1000)
        if self._terminal == "error":
            data["finish_reason"] = "error"
        else:
            reason = self._finish_reason or "stop"
            data["finish_reason"] = _FINISH_REASONS.get(reason, reason)
        return data

    # -- events ---------------------------------------------------------------------------

    def _payload(self, payload: bytes, emit: Emit) -> None:
        payload = escape_line_separators(payload)
        if self.event_ids:
            emit(b"id: %d\ndata: %s\n\n" % (self._next_id, payload))
            self._next_id += 1
        else:
            emit(b"data: " + payload + b"\n\n")

    def _text(self, text: str, emit: Emit) -> None:
        if not text:
            return
        if self._text_broken and self._text_sent and self.text_separator:
            text = self.text_separator + text
        self._text_broken = False
        self._text_sent = True
        self._payload(b'{"type":"text","text":' + dumps_text(text) + b"}", emit)

    def _error(self, message: str, emit: Emit) -> None:
        if self.redact:
            message = redact_secrets(message, self.redact)
        self._terminal = "error"
        self._payload(
            b'{"type":"error","error":' + dumps_text(message or GENERIC_ERROR) + b"}", emit
        )

    def _send_tool_call(self, tool_call_id: str, tool: _PendingToolCall, emit: Emit) -> None:
        if tool.sent:
            return
        tool.sent = True
        args_text = "".join(tool.args)
        tool.args.clear()
        event = {
            "type": "tool_call",
            "id": tool_call_id,
            "tool": tool.name,
            "input": _parse_arguments(args_text),
        }
        try:
            payload = dumps(event, "tool-call")
        except SerializationError:  # NaN/Infinity in the arguments: send the text as it is
            event["input"] = args_text
            payload = dumps(event, "tool-call")
        self._payload(payload, emit)

    def _tool_result(self, chunk: Any, emit: Emit) -> None:
        tool = self._tools.get(chunk.tool_call_id)
        if tool is not None:
            self._send_tool_call(chunk.tool_call_id, tool, emit)
        event: dict[str, Any] = {
            "type": "tool_result",
            "id": chunk.tool_call_id,
            "output": chunk.result,
        }
        if chunk.is_error:
            event["error"] = chunk.result if isinstance(chunk.result, str) else "tool failed"
        try:
            payload = dumps(event, "tool-result")
        except SerializationError as exc:
            logger.warning("%s", exc)
            payload = dumps(
                {"type": "tool_result", "id": chunk.tool_call_id, "output": None, "error": str(exc)}
            )
        self._payload(payload, emit)


# -- response -----------------------------------------------------------------------------------


def _last_event_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"last-event-id" and value.strip():
            return str(value.decode("latin-1"))
    return None


class RAISResponse(AssistantStreamResponse):
    """Serve a run as a RAIS v1 stream (``text/event-stream``).

    See `RAISEncoder` for ``extensions``, ``event_ids``, ``model``, ``text_separator`` and
    ``redact``. A request carrying ``Last-Event-ID`` (a reconnect) gets ``204 No Content`` and
    the run never starts: RAIS forbids re-sending delivered tokens and a run is not resumable.
    Headers: ``Cache-Control: no-cache, no-transform``, ``Connection: keep-alive``,
    ``X-Accel-Buffering: no``; keepalive ``: keep-alive`` (``heartbeat``, 15 s by default).
    """

    def __init__(
        self,
        stream: AsyncIterable[AssistantStreamChunk],
        heartbeat: HeartbeatOption = True,
        *,
        extensions: ExtensionsOption = False,
        event_ids: bool = True,
        model: str | None = None,
        text_separator: str = "",
        redact: Iterable[str | None] = (),
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        encoder = RAISEncoder(
            extensions=extensions,
            event_ids=event_ids,
            model=model,
            text_separator=text_separator,
            redact=redact,
        )
        super().__init__(
            stream,
            encoder,
            heartbeat,
            send_timeout=send_timeout,
            write_interval=write_interval,
            status_code=status_code,
            headers=headers,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        last_event_id = _last_event_id(scope)
        if scope.get("type") == "http" and last_event_id is not None:
            logger.debug("RAIS reconnect with Last-Event-ID %r: 204 (not resumable)", last_event_id)
            await self.stream.aclose()
            await Response(status_code=204, headers={"Cache-Control": "no-cache"})(
                scope, receive, send
            )
            return
        await super().__call__(scope, receive, send)


# -- decoder ------------------------------------------------------------------------------------

#: The most bytes one event (or one line) may hold before decoding fails.
MAX_EVENT_BYTES = 10 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"
_KNOWN_IGNORED = frozenset({"partial_tool_result"})


class _Event:
    __slots__ = ("data", "line", "offset")

    def __init__(self, data: str, line: int, offset: int) -> None:
        self.data = data
        self.line = line
        self.offset = offset


class _SSEParser:
    """An incremental SSE parser (WHATWG field rules) that tracks line numbers and offsets."""

    def __init__(self, max_event_bytes: int) -> None:
        self.max_event_bytes = max_event_bytes
        self._pending = b""
        self._skip_lf = False
        self._at_start = True
        self.line = 0  # lines completed so far
        self.offset = 0  # byte offset of the next line's start
        self._data: list[str] | None = None
        self._data_size = 0
        self._event_line = 0
        self._event_offset = 0

    def error(
        self, problem: str, line: int | None = None, offset: int | None = None
    ) -> DecodeError:
        line = self.line + 1 if line is None else line
        offset = self.offset if offset is None else offset
        return DecodeError(f"RAIS stream: line {line} (byte offset {offset}): {problem}")

    def feed(self, data: bytes) -> list[_Event]:
        """Parse more bytes; return the events they complete."""
        events: list[_Event] = []
        if self._skip_lf and data:
            self._skip_lf = False
            if data[:1] == b"\n":
                data = data[1:]
                self.offset += 1
        buffer = self._pending + data if self._pending else data
        if self._at_start:
            if len(buffer) < 3 and _BOM.startswith(buffer):
                self._pending = buffer
                return events
            self._at_start = False
            if buffer.startswith(_BOM):
                buffer = buffer[3:]
                self.offset += 3
        start = 0
        end = len(buffer)
        while start < end:
            lf = buffer.find(b"\n", start)
            cr = buffer.find(b"\r", start, lf if lf != -1 else end)
            if cr != -1:
                stop, after = cr, cr + 1
                if after < end:
                    if buffer[after] == 0x0A:
                        after += 1
                else:
                    self._skip_lf = True
            elif lf != -1:
                stop, after = lf, lf + 1
            else:
                break
            self._line(buffer[start:stop], events)
            self.offset += after - start
            start = after
        self._pending = buffer[start:]
        if len(self._pending) > self.max_event_bytes:
            raise self.error(f"a line longer than {self.max_event_bytes} bytes")
        return events

    def _line(self, raw: bytes, events: list[_Event]) -> None:
        line_number = self.line + 1
        self.line = line_number
        if not raw:
            data = self._data
            if data is not None:
                self._data = None
                self._data_size = 0
                events.append(_Event("\n".join(data), self._event_line, self._event_offset))
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.error(
                f"invalid UTF-8 ({exc.reason} at column {exc.start + 1})", line_number
            ) from None
        if text[0] == ":":
            return
        name, colon, value = text.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name != "data":
            return  # event, id, retry and unknown fields carry nothing RAIS uses
        if self._data is None:
            self._data = []
            self._event_line = line_number
            self._event_offset = self.offset
        self._data.append(value)
        self._data_size += len(raw)
        if self._data_size > self.max_event_bytes:
            raise self.error(f"an event larger than {self.max_event_bytes} bytes", line_number)

    def close(self) -> _Event | None:
        """End of input: the unterminated last event (or line), if there is one."""
        tail = self._pending
        self._pending = b""
        if tail:
            events: list[_Event] = []
            self._line(tail, events)
        if self._data is None:
            return None
        event = _Event("\n".join(self._data), self._event_line, self._event_offset)
        self._data = None
        return event


ByteSource = Union[AsyncIterable[bytes], Iterable[bytes]]


class RAISDecoder:
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

    def __init__(self, strict: bool = True, *, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self.strict = strict
        self.max_event_bytes = max_event_bytes

    async def decode_stream(self, stream: ByteSource) -> AsyncIterator[AssistantStreamChunk]:
        """Yield the chunks of a RAIS byte stream (bytes may be split anywhere)."""
        parser = _SSEParser(self.max_event_bytes)
        state = _DecodeState(self.strict, parser)
        source: object = stream
        if isinstance(source, AsyncIterable):
            async for data in source:
                for chunk in state.feed(data):
                    yield chunk
        elif isinstance(source, Iterable) and not isinstance(source, (bytes, bytearray, str)):
            for data in source:
                for chunk in state.feed(data):
                    yield chunk
        else:
            raise DecodeError(
                f"RAIS stream: expected an iterable of bytes, got {type(source).__name__}"
            )
        for chunk in state.close():
            yield chunk


class _DecodeState:
    """Turns parsed SSE events into chunks and enforces the RAIS lifecycle."""

    def __init__(self, strict: bool, parser: _SSEParser) -> None:
        self.strict = strict
        self.parser = parser
        self.terminal: str | None = None
        self.finish: StepFinishChunk | None = None

    def feed(self, data: Any) -> list[AssistantStreamChunk]:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise self.parser.error(f"expected bytes from the source, got {type(data).__name__}")
        chunks: list[AssistantStreamChunk] = []
        for event in self.parser.feed(bytes(data)):
            self._event(event, chunks)
        return chunks

    def close(self) -> list[AssistantStreamChunk]:
        chunks: list[AssistantStreamChunk] = []
        tail = self.parser.close()
        if tail is not None:
            if self.strict:
                raise self.parser.error(
                    "the stream ended inside an event (no blank line after it)",
                    tail.line,
                    tail.offset,
                )
            self._event(tail, chunks)
        if self.terminal is None and self.strict:
            raise self.parser.error("the stream ended without a done or error event")
        if self.finish is not None:
            chunks.append(self.finish)
            self.finish = None
        return chunks

    def _bad(self, event: _Event, problem: str) -> None:
        if self.strict:
            raise self.parser.error(problem, event.line, event.offset)
        logger.warning(
            "RAIS stream: line %d: %s (event dropped)", event.line, problem.replace("%", "%%")
        )

    def _event(self, event: _Event, chunks: list[AssistantStreamChunk]) -> None:
        text = event.data
        if text.strip() == "[DONE]":
            if self.terminal is None:
                self._done(None)
            return
        try:
            payload = json.loads(text)
        except ValueError as exc:
            self._bad(event, f"data is not valid JSON ({exc})")
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
            logger.debug("RAIS stream: line %d: ignoring unknown event type %r", event.line, kind)
            return
        problem = handler(self, payload, chunks)
        if problem is not None:
            self._bad(event, problem)

    def _done(self, metadata: Any) -> None:
        self.terminal = "done"
        if self.finish is None:
            self.finish = StepFinishChunk("stop")
        if isinstance(metadata, dict):
            self._metadata(metadata, [])

    # Handlers return a problem description or None.

    def _text(self, payload: dict[str, Any], chunks: list[AssistantStreamChunk]) -> str | None:
        text = payload.get("text")
        if not isinstance(text, str):
            return "'text' event without a string 'text' field"
        if text:
            chunks.append(TextDeltaChunk(text))
        return None

    def _on_done(self, payload: dict[str, Any], chunks: list[AssistantStreamChunk]) -> str | None:
        self._done(payload.get("metadata"))
        return None

    def _error(self, payload: dict[str, Any], chunks: list[AssistantStreamChunk]) -> str | None:
        error = payload.get("error")
        if not isinstance(error, str):
            return "'error' event without a string 'error' field"
        self.terminal = "error"
        chunks.append(ErrorChunk(error))
        return None

    def _reasoning(self, payload: dict[str, Any], chunks: list[AssistantStreamChunk]) -> str | None:
        text = payload.get("text")
        if not isinstance(text, str):
            return "'reasoning' event without a string 'text' field"
        if text:
            chunks.append(ReasoningDeltaChunk(text))
        return None

    def _tool_call(self, payload: dict[str, Any], chunks: list[AssistantStreamChunk]) -> str | None:
        tool_call_id = payload.get("id")
        name = payload.get("tool", payload.get("name"))
        if not isinstance(tool_call_id, str) or not isinstance(name, str):
            return "'tool_call' event without string 'id' and 'tool' fields"
        arguments = payload.get("input", payload.get("arguments", {}))
        if isinstance(arguments, str):
            args_text = arguments or "{}"
        else:
            try:
                args_text = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
            except ValueError:  # pragma: no cover - parsed JSON always dumps
                return "'tool_call' input cannot be re-encoded"
        chunks.append(ToolCallBeginChunk(tool_call_id, name))
        chunks.append(ToolCallDeltaChunk(tool_call_id, args_text))
        chunks.append(ToolCallArgsTextFinishChunk(tool_call_id))
        return None

    def _tool_result(
        self, payload: dict[str, Any], chunks: list[AssistantStreamChunk]
    ) -> str | None:
        tool_call_id = payload.get("id")
        if not isinstance(tool_call_id, str):
            return "'tool_result' event without a string 'id' field"
        error = payload.get("error")
        if error is not None and not isinstance(error, str):
            return "'tool_result' event with a non-string 'error' field"
        output = payload.get("output")
        if error is not None and output is None:
            output = error
        chunks.append(ToolResultChunk(tool_call_id, output, is_error=error is not None))
        return None

    def _metadata(self, payload: dict[str, Any], chunks: list[AssistantStreamChunk]) -> str | None:
        finish = self.finish
        if finish is None:
            if self.terminal == "error":
                return None  # no step finished; metadata after an error adds nothing
            finish = self.finish = StepFinishChunk("stop")
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
            finish.finish_reason = reason.replace("_", "-")
        return None

    def _ignored(self, payload: dict[str, Any], chunks: list[AssistantStreamChunk]) -> str | None:
        logger.debug("RAIS stream: ignoring %r event", payload.get("type"))
        return None


_Handler = Callable[[_DecodeState, dict[str, Any], list[AssistantStreamChunk]], Union[str, None]]

_HANDLERS: dict[str, _Handler] = {
    "text": _DecodeState._text,
    "done": _DecodeState._on_done,
    "error": _DecodeState._error,
    "reasoning": _DecodeState._reasoning,
    "tool_call": _DecodeState._tool_call,
    "tool_result": _DecodeState._tool_result,
    "metadata": _DecodeState._metadata,
    **{name: _DecodeState._ignored for name in _KNOWN_IGNORED},
}
