"""Incremental readers shared by every decoder: bytes → lines, and lines → SSE events.

`LineReader` turns network reads into complete text lines: UTF-8 is decoded incrementally (a
character split across two reads is fine), a leading BOM is dropped once, and lines end at LF,
CR or CRLF — also when a CR ends one read and its LF starts the next. `SSEParser` adds the
WHATWG server-sent events grammar on top (comments, ``data:`` with or without the space,
multi-line data, ``event:``/``id:``/``retry:``).

Both raise `DecodeError` (naming the protocol and the line) for invalid UTF-8 and for a line or
an event larger than the configured limit, so a hostile stream cannot grow memory without bound.

>>> parser = SSEParser("demo")
>>> [event.data for event in parser.feed(b"data: a\\r\\n\\r")]
['a']
>>> parser.feed(b"\\n: comment\\n\\nevent: x\\ndata: b\\ndata:c\\n\\n")[0].data
'b\\nc'
"""

from __future__ import annotations

import codecs

from ..errors import DecodeError

__all__ = ["DEFAULT_MAX_LINE", "LineReader", "SSEEvent", "SSEParser"]

#: Longest line (and longest SSE event) accepted, in characters: 16 Mi.
DEFAULT_MAX_LINE = 16 * 1024 * 1024


class LineReader:
    """Incremental UTF-8 line splitter (LF, CR or CRLF).

    `feed` returns the lines completed by a read (without their line ends); `close` returns the
    text left after the last line end, or ``None``. ``line_count`` counts the lines returned so
    far, so the *i*-th line of the latest batch is line ``line_count - len(batch) + i + 1``.
    """

    __slots__ = (
        "_after_cr",
        "_decoder",
        "_error",
        "_pending",
        "_started",
        "line_count",
        "max_line",
        "protocol",
    )

    def __init__(self, protocol: str, max_line: int = DEFAULT_MAX_LINE) -> None:
        self.protocol = protocol
        self.max_line = max_line
        self.line_count = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._pending = ""
        self._after_cr = False
        self._started = False
        self._error: DecodeError | None = None

    def _decode(self, data: bytes, final: bool) -> str:
        if self._error is not None:
            raise self._error
        decoder = self._decoder
        try:
            return decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            # Keep the valid text before the bad byte (a terminator in it still counts); the
            # error is raised by the next read.
            line = self.line_count + 1 + data.count(b"\n", 0, max(exc.start, 0))
            self._error = DecodeError(f"{self.protocol}: line {line}: invalid UTF-8 ({exc.reason})")
            if final:
                raise self._error from None
            return bytes(exc.object[: exc.start]).decode("utf-8", "replace")

    def feed(self, data: bytes) -> list[str]:
        """Add one read; return the lines it completes."""
        text = self._decode(data, False)
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._after_cr:
            self._after_cr = False
            if text[:1] == "\n":
                text = text[1:]
        if "\r" in text:
            self._after_cr = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self._pending:
            text = self._pending + text
        lines = text.split("\n")
        pending = lines.pop()
        if len(pending) > self.max_line:
            raise DecodeError(
                f"{self.protocol}: line {self.line_count + len(lines) + 1}: longer than "
                f"{self.max_line} characters"
            )
        self._pending = pending
        self.line_count += len(lines)
        return lines

    def close(self) -> str | None:
        """End of input: the unterminated last line, or ``None`` when the input ended cleanly."""
        self._decode(b"", True)  # raises if the input ended inside a UTF-8 sequence
        pending, self._pending = self._pending, ""
        return pending or None


class SSEEvent:
    """One dispatched server-sent event."""

    __slots__ = ("data", "event", "id", "line", "retry")

    def __init__(self, data: str, event: str | None, id: str, retry: int | None, line: int) -> None:
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

    def __repr__(self) -> str:
        return f"SSEEvent(data={self.data!r}, event={self.event!r}, id={self.id!r})"


class SSEParser:
    """Incremental server-sent events parser (WHATWG grammar).

    `feed` returns the events completed by a read. Blocks without ``data`` lines (comments,
    keepalives) dispatch nothing. `close` drops an unterminated last event unless
    ``dispatch_incomplete`` is true; ``incomplete`` then says whether one was pending.
    """

    __slots__ = ("_data", "_event", "incomplete", "last_event_id", "lines", "max_event", "retry")

    def __init__(self, protocol: str, max_event: int = DEFAULT_MAX_LINE) -> None:
        self.lines = LineReader(protocol, max_event)
        self.max_event = max_event
        self.last_event_id = ""
        self.retry: int | None = None
        self.incomplete = False
        self._data: str | None = None
        self._event: str | None = None

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Add one read; return the events it completes."""
        lines = self.lines.feed(data)
        return self._parse(lines, self.lines.line_count - len(lines)) if lines else []

    def close(self, dispatch_incomplete: bool = False) -> list[SSEEvent]:
        """End of input. An event not ended by a blank line is dropped (or dispatched)."""
        tail = self.lines.close()
        events = self._parse([tail], self.lines.line_count) if tail is not None else []
        self.incomplete = self._data is not None
        if self.incomplete and dispatch_incomplete:
            events += self._parse([""], self.lines.line_count + 1)
        self._data = None
        self._event = None
        return events

    def _parse(self, lines: list[str], base: int) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        data = self._data
        for index, line in enumerate(lines):
            if line.startswith("data:"):
                value = line[6:] if line[5:6] == " " else line[5:]
                if data is None:
                    data = value
                else:
                    data = data + "\n" + value
                    if len(data) > self.max_event:
                        raise DecodeError(
                            f"{self.lines.protocol}: line {base + index + 1}: event longer "
                            f"than {self.max_event} characters"
                        )
                continue
            if not line:
                if data is not None:
                    events.append(
                        SSEEvent(
                            data, self._event, self.last_event_id, self.retry, base + index + 1
                        )
                    )
                    data = None
                self._event = None
                continue
            if line[0] == ":":
                continue
            name, _, value = line.partition(":")
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                data = value if data is None else data + "\n" + value
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\0" not in value:
                    self.last_event_id = value
            elif name == "retry" and value.isascii() and value.isdigit():
                self.retry = int(value)
        self._data = data
        return events
