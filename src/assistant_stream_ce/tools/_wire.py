"""Raw frames of a response body, and what each protocol's frames mean.

A *frame* is one SSE event that carries data (one or more ``data:`` lines ended by a blank line)
or one non-blank data-stream line. A *keepalive* is an SSE block of comments only, or a blank
data-stream line; keepalives are counted apart from frames. These readers are deliberately
lenient and keep every detail (raw bytes, line endings, fields) so `check` can judge them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..assistant_stream_chunk import ErrorChunk, TextDeltaChunk
from ..errors import DecodeError
from ..serialization import PROTOCOLS, get_protocol
from ..serialization.decoding import Malformed, loads
from ..serialization.sse import DEFAULT_MAX_LINE, LineSplitter, parse_field

__all__ = ["Frame", "Framer", "Interpreter", "format_names", "interpreter_for", "is_sse"]


def format_names() -> list[str]:
    """The names of every registered protocol."""
    return list(PROTOCOLS)


def is_sse(format_name: str) -> bool:
    """Whether the protocol's frames are server-sent events."""
    return get_protocol(format_name).sse


@dataclass
class Frame:
    """One frame or keepalive, as read from the body."""

    at: float
    raw: bytes
    keepalive: bool = False
    #: False for a trailing piece the body ended in the middle of.
    terminated: bool = True
    #: SSE: the field lines ``(name, value)`` in order (comments excluded); data stream: empty.
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: SSE: the joined ``data`` value; data stream: the JSON text after the code.
    data: str | None = None
    #: Data stream: the frame code (``0``, ``b``, ``aui-state``, …).
    code: str | None = None
    text_error: str | None = None
    # -- set by an Interpreter -------------------------------------------------------------
    type: str = ""
    value: Any = None
    json_error: str | None = None
    #: Assistant text this frame carries (a text delta), if any.
    text: str | None = None
    #: "done" or "error" when this frame is the protocol's end (or error) marker.
    terminal: str | None = None
    error: str | None = None

    @property
    def size(self) -> int:
        return len(self.raw)


class Framer:
    """Cuts a body into frames as bytes arrive (``sse`` events or data-stream lines).

    Lines come from the library's shared `LineSplitter` (with their line ends kept, so `check`
    can judge them); SSE fields are read with the shared `parse_field`.
    """

    def __init__(self, sse: bool, max_line: int = DEFAULT_MAX_LINE) -> None:
        self.sse = sse
        self._lines = LineSplitter("response body", max_line)
        self._block: list[tuple[bytes, bytes]] = []

    def feed(self, data: bytes, at: float) -> list[Frame]:
        """The frames a read completes (raises `DecodeError` for a line over the limit)."""
        frames: list[Frame] = []
        for line, ending in self._lines.feed_with_endings(data):
            if not self.sse:
                frames.append(self._line_frame(line, line + ending, at, True))
            elif line:
                self._block.append((line, ending))
            else:
                block, self._block = self._block, []
                frames.append(self._sse_frame(block, ending, at, True))
        return frames

    def close(self, at: float) -> list[Frame]:
        """The unterminated tail, if the body ended in the middle of a frame."""
        rest = self._lines.close() or b""
        if not self.sse:
            return [self._line_frame(rest, rest, at, False)] if rest else []
        block, self._block = self._block, []
        if rest:
            block.append((rest, b""))
        return [self._sse_frame(block, b"", at, False)] if block else []

    @staticmethod
    def _decode(raw: bytes) -> tuple[str, str | None]:
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            return raw.decode("utf-8", "replace"), f"invalid UTF-8 ({exc.reason})"

    def _line_frame(self, line: bytes, raw: bytes, at: float, terminated: bool) -> Frame:
        if not line:
            return Frame(at, raw, keepalive=True, terminated=terminated)
        text, error = self._decode(line)
        code, colon, payload = text.partition(":")
        return Frame(
            at,
            raw,
            terminated=terminated,
            code=code if colon else None,
            data=payload if colon else None,
            text_error=error,
        )

    def _sse_frame(
        self, block: list[tuple[bytes, bytes]], last: bytes, at: float, terminated: bool
    ) -> Frame:
        raw = b"".join(line + ending for line, ending in block) + last
        fields: list[tuple[str, str]] = []
        data: list[str] = []
        errors: list[str] = []
        for line, _ in block:
            text, error = self._decode(line)
            if error:
                errors.append(error)
            field = parse_field(text)
            if field is None:
                continue  # a comment
            fields.append(field)
            if field[0] == "data":
                data.append(field[1])
        return Frame(
            at,
            raw,
            keepalive=not data,
            terminated=terminated,
            fields=fields,
            data="\n".join(data) if data else None,
            text_error=errors[0] if errors else None,
        )


# -- interpretation ------------------------------------------------------------------------

_DATA_STREAM_CODES = {
    "0": "text",
    "g": "reasoning",
    "aui-text-delta": "text",
    "aui-reasoning-delta": "reasoning",
    "aui-reasoning-part-start": "reasoning-part-start",
    "b": "tool-call-begin",
    "c": "tool-call-delta",
    "9": "tool-call",
    "a": "tool-result",
    "h": "source",
    "k": "file",
    "aui-data": "data-part",
    "2": "data",
    "8": "annotations",
    "aui-state": "update-state",
    "3": "error",
    "f": "step-start",
    "e": "step-finish",
    "d": "message-finish",
    "i": "redacted-reasoning",
    "j": "reasoning-signature",
}


class Interpreter:
    """Names frames and finds their text, end and error markers (one per response)."""

    format = ""

    def __init__(self) -> None:
        self.parts: list[str] = []  # assistant transport: part types by index

    def interpret(self, frame: Frame) -> Frame:
        if frame.keepalive or frame.data is None:
            frame.type = "keepalive" if frame.keepalive else "?"
            return frame
        if frame.data == "[DONE]":
            frame.type = "[DONE]"
            frame.terminal = "done"
            return frame
        try:
            frame.value = loads(frame.data)
        except Malformed as exc:
            frame.json_error = exc.detail
            frame.type = "invalid-json"
            return frame
        try:
            self._interpret(frame, frame.value)
        except (AttributeError, TypeError, KeyError, IndexError):
            frame.type = frame.type or "malformed"
        return frame

    def _interpret(self, frame: Frame, value: Any) -> None:
        raise NotImplementedError


class _DataStream(Interpreter):
    format = "data-stream"

    def _interpret(self, frame: Frame, value: Any) -> None:
        code = frame.code or ""
        frame.type = f"{code} {_DATA_STREAM_CODES.get(code, 'unknown')}"
        if code == "0" and isinstance(value, str):
            frame.text = value
        elif code == "aui-text-delta":
            frame.text = value["textDelta"]
        elif code == "3":
            frame.error = str(value)
            frame.terminal = "error"
        elif code == "d":
            frame.terminal = "done"


class _AssistantTransport(Interpreter):
    format = "assistant-transport"

    def _interpret(self, frame: Frame, value: Any) -> None:
        kind = value["type"]
        frame.type = str(kind)
        if kind == "part-start":
            part_type = str(value["part"]["type"])
            self.parts.append(part_type)
            frame.type = f"part-start {part_type}"
        elif kind == "text-delta":
            index = value["path"][0]
            part = self.parts[index] if 0 <= index < len(self.parts) else "?"
            if part == "text":
                frame.text = value["textDelta"]
            else:
                frame.type = f"text-delta ({part})"
        elif kind == "error":
            frame.error = str(value.get("error"))


class _OpenAI(Interpreter):
    format = "openai"

    def _interpret(self, frame: Frame, value: Any) -> None:
        if "error" in value:
            frame.type = "error"
            error = value["error"]
            frame.error = str(error.get("message") if isinstance(error, dict) else error)
            return
        choices = value.get("choices") or []
        if not choices:
            frame.type = "usage" if value.get("usage") else "chunk"
            return
        choice = choices[0]
        delta = choice.get("delta") or {}
        kinds = [
            key
            for key in ("role", "reasoning_content", "reasoning", "tool_calls")
            if delta.get(key)
        ]
        if delta.get("content"):
            frame.text = delta["content"]
            kinds.append("content")
        if choice.get("finish_reason"):
            kinds.append(f"finish:{choice['finish_reason']}")
        frame.type = "+".join(kinds) or "empty-delta"


class _RAIS(Interpreter):
    format = "rais"

    def _interpret(self, frame: Frame, value: Any) -> None:
        kind = value["type"]
        frame.type = str(kind)
        if kind == "text":
            frame.text = value["text"]
        elif kind == "done":
            frame.terminal = "done"
        elif kind == "error":
            frame.error = str(value.get("error"))
            frame.terminal = "error"


class _UIMessageStream(Interpreter):
    format = "ui-message-stream"

    def _interpret(self, frame: Frame, value: Any) -> None:
        kind = value["type"]
        frame.type = str(kind)
        if kind == "text-delta":
            frame.text = value["delta"]
        elif kind == "error":
            frame.error = str(value.get("errorText"))


class _Decoded(Interpreter):
    """Any registered protocol without its own interpreter: frames read by its decoder."""

    def __init__(self, format_name: str) -> None:
        super().__init__()
        self.format = format_name
        info = get_protocol(format_name)
        self.sse = info.sse
        self.decoder = info.decoder(strict=False)
        self.decoder.reset()

    def interpret(self, frame: Frame) -> Frame:
        if frame.keepalive:
            frame.type = "keepalive"
            return frame
        # an SSE event's data, or a whole line of a line protocol
        payload = frame.data if self.sse else frame.raw.decode("utf-8", "replace").strip()
        if payload is not None and payload != "[DONE]":
            try:
                frame.value = loads(payload)
            except Malformed as exc:
                frame.json_error = exc.detail
        try:
            chunks = self.decoder.feed(frame.raw)
        except DecodeError as exc:
            frame.type = "malformed"
            frame.json_error = frame.json_error or str(exc)
            return frame
        frame.type = "+".join(dict.fromkeys(chunk.type for chunk in chunks)) or "frame"
        text = "".join(chunk.text_delta for chunk in chunks if isinstance(chunk, TextDeltaChunk))
        frame.text = text or None
        errors = [str(chunk.error) for chunk in chunks if isinstance(chunk, ErrorChunk)]
        if errors:
            frame.error = errors[0]
        if self.decoder.done:
            frame.terminal = "done"
        return frame


_INTERPRETERS: dict[str, type[Interpreter]] = {
    cls.format: cls for cls in (_DataStream, _AssistantTransport, _OpenAI, _RAIS, _UIMessageStream)
}


def interpreter_for(format_name: str) -> Interpreter:
    """A fresh interpreter for one response in ``format_name`` (any registered protocol)."""
    cls = _INTERPRETERS.get(format_name)
    return cls() if cls is not None else _Decoded(format_name)
