"""Server-sent events: the one writer and the one reader every SSE protocol shares.

Writing: `sse_data` frames a payload as ``data: <payload>`` plus the blank line that ends the
event; `sse_event` adds ``event:`` and ``id:`` lines; `sse_comment` writes a comment block
(keepalives); `with_event_id` puts an ``id:`` line in front of a frame that is already written
(resumable streams number frames as they record them).

Reading, in two layers that every decoder and the command-line tools use:

- `LineSplitter` cuts bytes into lines at LF, CR or CRLF — also when a CR ends one read and its
  LF starts the next — in time linear in the input (a long line arriving in small reads is
  joined once), strips a leading BOM once, counts lines and byte offsets, and refuses a line
  longer than its limit. `LineReader` adds strict UTF-8 decoding (the data stream's reader).
- `SSEParser` applies the WHATWG event-stream grammar (comments, ``data:`` with or without the
  space, multi-line data, ``event:``/``id:``/``retry:``) and dispatches `SSEEvent` objects.

Every problem is a `DecodeError` naming the protocol and the line, so a hostile stream can
neither grow memory without bound nor escape as another exception type.

>>> parser = SSEParser("demo")
>>> [event.data for event in parser.feed(b"data: a\\r\\n\\r")]
['a']
>>> parser.feed(b"\\n: comment\\n\\nevent: x\\ndata: b\\ndata:c\\n\\n")[0].data
'b\\nc'
>>> sse_event(b'{"n":1}', id=3)
b'id: 3\\ndata: {"n":1}\\n\\n'
"""

from __future__ import annotations

import re

from ..errors import DecodeError

__all__ = [
    "DATA_PREFIX",
    "DEFAULT_MAX_LINE",
    "EVENT_END",
    "SSE_DONE",
    "LineReader",
    "LineSplitter",
    "SSEEvent",
    "SSEParser",
    "parse_field",
    "sse_comment",
    "sse_data",
    "sse_event",
    "with_event_id",
]

#: Longest line (and longest SSE event) accepted, in characters or bytes: 16 Mi.
DEFAULT_MAX_LINE = 16 * 1024 * 1024

# -- writing -------------------------------------------------------------------------------------

#: What starts a data line, and what ends an event (encoders build hot-path templates from them).
DATA_PREFIX = b"data: "
EVENT_END = b"\n\n"
#: The ``[DONE]`` event that ends the OpenAI-style SSE protocols.
SSE_DONE = DATA_PREFIX + b"[DONE]" + EVENT_END


def sse_data(payload: bytes) -> bytes:
    """One event carrying ``payload`` (single-line data) on one ``data:`` line."""
    return DATA_PREFIX + payload + EVENT_END


def sse_event(payload: bytes, *, event: str | None = None, id: str | int | None = None) -> bytes:
    """One event with optional ``id:`` and ``event:`` lines before its ``data:`` line."""
    head = b""
    if id is not None:
        head = b"id: " + str(id).encode() + b"\n"
    if event is not None:
        head += b"event: " + event.encode() + b"\n"
    return head + DATA_PREFIX + payload + EVENT_END


def sse_comment(text: str = "") -> bytes:
    """A comment block (``: text`` and a blank line): clients ignore it; used as a keepalive."""
    return b": " + text.encode() + EVENT_END if text else b":" + EVENT_END


def with_event_id(frame: bytes, event_id: str | int) -> bytes:
    """``frame`` (one written event) with an ``id:`` line in front of it."""
    return b"id: " + str(event_id).encode() + b"\n" + frame


# -- reading: lines ------------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(rb"\r\n|\r|\n")


class LineSplitter:
    """Incremental byte line splitter (LF, CR or CRLF), linear in its input.

    `feed` returns the lines a read completes (without their ends); `close` returns the bytes
    left after the last line end, or ``None``. ``line_count`` counts the lines returned so far
    and ``offset`` is the byte offset of the next line's start (after a BOM, which counts).
    With ``keep_endings`` `feed_with_endings` also returns each line's end (``b"\\n"``,
    ``b"\\r\\n"`` or ``b"\\r"``). A line longer than ``max_line`` bytes raises `DecodeError`.
    """

    __slots__ = (
        "_after_cr",
        "_pending",
        "_pending_size",
        "_started",
        "ending_sizes",
        "line_count",
        "max_line",
        "offset",
        "protocol",
        "show_offsets",
    )

    def __init__(
        self, protocol: str, max_line: int = DEFAULT_MAX_LINE, *, show_offsets: bool = False
    ) -> None:
        self.protocol = protocol
        self.max_line = max_line
        #: Whether error messages give the byte offset of the line as well as its number.
        self.show_offsets = show_offsets
        self.line_count = 0
        self.offset = 0
        #: After `feed`: the byte size of each returned line's end when any was not a lone LF.
        self.ending_sizes: list[int] | None = None
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._after_cr = False
        self._started = False

    def error(self, problem: str, line: int, offset: int | None = None) -> DecodeError:
        """A `DecodeError` naming the protocol, the line (and its byte offset) and ``problem``."""
        where = f"line {line}"
        if self.show_offsets:
            where += f" (byte offset {self.offset if offset is None else offset})"
        return DecodeError(f"{self.protocol}: {where}: {problem}")

    def _too_long(self, line_number: int) -> DecodeError:
        return self.error(f"longer than {self.max_line} bytes", line_number)

    def _prepare(self, data: bytes) -> bytes | None:
        """Drop a leading BOM (once) and the LF of a CRLF split across reads."""
        if not self._started:
            if self._pending:
                data = self._pending.pop() + data
                self._pending_size = 0
            if len(data) < 3 and _BOM.startswith(data):
                if data:
                    self._pending.append(data)  # could still become a BOM
                    self._pending_size = len(data)
                return None
            self._started = True
            if data.startswith(_BOM):
                data = data[3:]
                self.offset += 3
        if self._after_cr and data:
            self._after_cr = False
            if data[0] == 0x0A:
                data = data[1:]
                self.offset += 1
        return data

    def _join_pending(self, first: bytes) -> bytes:
        pending = self._pending
        if not pending:
            return first
        pending.append(first)
        line = b"".join(pending)
        pending.clear()
        self._pending_size = 0
        return line

    def _keep(self, tail: bytes) -> None:
        if tail:
            self._pending.append(tail)
            self._pending_size += len(tail)
            if self._pending_size > self.max_line:
                raise self._too_long(self.line_count + 1)

    def feed(self, data: bytes) -> list[bytes]:
        """Add one read; return the lines it completes."""
        self.ending_sizes = None
        prepared = self._prepare(data)
        if not prepared:
            return []
        data = prepared
        if b"\r" in data:
            lines, endings, tail = self._split_cr(data)
            self.ending_sizes = [len(ending) for ending in endings]
        elif b"\n" in data:
            lines = data.split(b"\n")
            tail = lines.pop()
        else:
            self._keep(data)
            return []
        if lines:
            lines[0] = self._join_pending(lines[0])
            self.line_count += len(lines)
            sizes = self.ending_sizes
            self.offset += sum(map(len, lines)) + (len(lines) if sizes is None else sum(sizes))
        self._keep(tail)
        return lines

    def feed_with_endings(self, data: bytes) -> list[tuple[bytes, bytes]]:
        """Like `feed`, each line with its line end."""
        self.ending_sizes = None
        prepared = self._prepare(data)
        if not prepared:
            return []
        lines, endings, tail = self._split_cr(prepared)
        if lines:
            lines[0] = self._join_pending(lines[0])
            self.line_count += len(lines)
            self.offset += sum(map(len, lines)) + sum(map(len, endings))
        self._keep(tail)
        return list(zip(lines, endings, strict=True))

    def _split_cr(self, data: bytes) -> tuple[list[bytes], list[bytes], bytes]:
        lines: list[bytes] = []
        endings: list[bytes] = []
        start = 0
        for match in _LINE_END.finditer(data):
            lines.append(data[start : match.start()])
            endings.append(match.group())
            start = match.end()
        if data[-1] == 0x0D:
            self._after_cr = True  # the LF of this CRLF may start the next read
        return lines, endings, data[start:]

    def close(self) -> bytes | None:
        """End of input: the unterminated last line, or ``None`` when the input ended cleanly."""
        pending = self._pending
        if not pending:
            return None
        tail = b"".join(pending)
        pending.clear()
        self._pending_size = 0
        return tail or None


class LineReader:
    """Incremental UTF-8 line reader (LF, CR or CRLF) on top of `LineSplitter`.

    `feed` returns the text lines a read completes; `close` returns the unterminated last line
    or ``None``. ``line_count`` counts the lines returned so far. Invalid UTF-8 raises
    `DecodeError` naming the line (a character split across two reads is fine).
    """

    __slots__ = ("_splitter", "protocol")

    def __init__(self, protocol: str, max_line: int = DEFAULT_MAX_LINE) -> None:
        self.protocol = protocol
        self._splitter = LineSplitter(protocol, max_line)

    @property
    def line_count(self) -> int:
        return self._splitter.line_count

    @property
    def max_line(self) -> int:
        return self._splitter.max_line

    def _decode(self, line: bytes, number: int) -> str:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._splitter.error(f"invalid UTF-8 ({exc.reason})", number) from None

    def feed(self, data: bytes) -> list[str]:
        """Add one read; return the lines it completes."""
        lines = self._splitter.feed(data)
        if not lines:
            return []
        try:
            return b"\n".join(lines).decode("utf-8").split("\n")
        except UnicodeDecodeError:
            first = self._splitter.line_count - len(lines) + 1
            return [self._decode(line, first + index) for index, line in enumerate(lines)]

    def close(self) -> str | None:
        """End of input: the unterminated last line, or ``None`` when the input ended cleanly."""
        tail = self._splitter.close()
        if tail is None:
            return None
        return self._decode(tail, self._splitter.line_count + 1)


# -- reading: events -----------------------------------------------------------------------------


def parse_field(line: str) -> tuple[str, str] | None:
    """One event-stream line as ``(name, value)``; ``None`` for a comment.

    The value loses one leading space; a line without a colon is a field with an empty value.
    """
    if line[:1] == ":":
        return None
    name, _, value = line.partition(":")
    if value[:1] == " ":
        value = value[1:]
    return name, value


class SSEEvent:
    """One dispatched server-sent event."""

    __slots__ = ("data", "event", "first_line", "id", "line", "offset", "retry")

    def __init__(
        self,
        data: str,
        event: str | None,
        id: str,
        retry: int | None,
        line: int,
        first_line: int = 0,
        offset: int = 0,
    ) -> None:
        #: The data lines joined with LF.
        self.data = data
        #: The ``event:`` name, or ``None`` (the default type, ``message``).
        self.event = event
        #: The last event id seen so far in the stream (ids persist across events).
        self.id = id
        #: The latest ``retry:`` value in milliseconds, if any.
        self.retry = retry
        #: The line number of the blank line that dispatched the event.
        self.line = line
        #: The line number of the event's first ``data`` line, and the byte offset where it starts.
        self.first_line = first_line
        self.offset = offset

    def __repr__(self) -> str:
        return f"SSEEvent(data={self.data!r}, event={self.event!r}, id={self.id!r})"


class SSEParser:
    """Incremental server-sent events parser (WHATWG grammar), linear in its input.

    `feed` returns the events completed by a read. Blocks without ``data`` lines (comments,
    keepalives) dispatch nothing. `close` drops an unterminated last event unless
    ``dispatch_incomplete`` is true; ``incomplete`` then says whether one was pending. An event
    whose data grows past ``max_event`` characters raises `DecodeError`.
    """

    __slots__ = (
        "_data",
        "_data_size",
        "_event",
        "_first_line",
        "_first_offset",
        "incomplete",
        "last_event_id",
        "lines",
        "max_event",
        "retry",
    )

    def __init__(
        self, protocol: str, max_event: int = DEFAULT_MAX_LINE, *, show_offsets: bool = False
    ) -> None:
        self.lines = LineSplitter(protocol, max_event, show_offsets=show_offsets)
        self.max_event = max_event
        self.last_event_id = ""
        self.retry: int | None = None
        self.incomplete = False
        self._data: list[str] | None = None
        self._data_size = 0
        self._event: str | None = None
        self._first_line = 0
        self._first_offset = 0

    @property
    def protocol(self) -> str:
        return self.lines.protocol

    def error(self, problem: str, line: int, offset: int | None = None) -> DecodeError:
        """A `DecodeError` for ``problem`` at ``line`` (starting at byte ``offset``)."""
        return self.lines.error(problem, line, offset)

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Add one read; return the events it completes."""
        splitter = self.lines
        start_offset = splitter.offset
        lines = splitter.feed(data)
        if not lines:
            return []
        return self._parse(lines, splitter.line_count - len(lines), start_offset)

    def close(self, dispatch_incomplete: bool = False) -> list[SSEEvent]:
        """End of input. An event not ended by a blank line is dropped (or dispatched)."""
        splitter = self.lines
        offset = splitter.offset
        tail = splitter.close()
        events = self._parse([tail], splitter.line_count, offset) if tail is not None else []
        self.incomplete = self._data is not None
        if self.incomplete and dispatch_incomplete:
            events += self._parse([b""], splitter.line_count + 1, offset)
        self._data = None
        self._data_size = 0
        self._event = None
        return events

    def _decode(self, raw: bytes, number: int, offset: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.error(f"invalid UTF-8 ({exc.reason})", number, offset) from None

    def _parse(self, lines: list[bytes], base: int, offset: int) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        data = self._data
        sizes = self.lines.ending_sizes
        for index, raw in enumerate(lines):
            number = base + index + 1
            if not raw:
                if data is not None:
                    events.append(
                        SSEEvent(
                            data[0] if len(data) == 1 else "\n".join(data),
                            self._event,
                            self.last_event_id,
                            self.retry,
                            number,
                            self._first_line,
                            self._first_offset,
                        )
                    )
                    data = None
                    self._data_size = 0
                self._event = None
            elif raw[:5] == b"data:":
                value = self._decode(raw[6:] if raw[5:6] == b" " else raw[5:], number, offset)
                if data is None:
                    data = [value]
                    self._first_line = number
                    self._first_offset = offset
                    self._data_size = len(raw)
                else:
                    data.append(value)
                    self._data_size += len(raw)
                if self._data_size > self.max_event:
                    raise self.error(f"event larger than {self.max_event} bytes", number, offset)
            elif raw[0] != 0x3A:  # not a comment
                field = parse_field(self._decode(raw, number, offset))
                assert field is not None
                name, value = field
                if name == "data":  # "data" without a colon: an empty data line
                    if data is None:
                        data = [value]
                        self._first_line = number
                        self._first_offset = offset
                    else:
                        data.append(value)
                elif name == "event":
                    self._event = value
                elif name == "id":
                    if "\0" not in value:
                        self.last_event_id = value
                elif name == "retry" and value.isascii() and value.isdigit():
                    self.retry = int(value)
            offset += len(raw) + (1 if sizes is None else sizes[index])
        self._data = data
        return events
