"""What every protocol decoder shares: the stream loop, strict/lenient handling, shape checks."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any, ClassVar, Union

import orjson

from ..assistant_stream_chunk import AssistantStreamChunk
from ..errors import DecodeError
from .sse import SSEEvent, SSEParser

__all__ = [
    "ByteSource",
    "Malformed",
    "SSEStreamDecoder",
    "StreamDecoder",
    "check_finite",
    "loads",
]

logger = logging.getLogger("assistant_stream_ce.serialization")

ByteSource = Union[AsyncIterable[bytes], Iterable[bytes]]

# Exceptions that a shape check we did not anticipate may raise while reading a frame.
_SHAPE_ERRORS = (TypeError, KeyError, AttributeError, ValueError, IndexError, RecursionError)


class Malformed(Exception):
    """Raised inside a decoder for a bad frame; turned into `DecodeError` or a dropped frame."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


_orjson_loads = orjson.loads
_OrjsonError = orjson.JSONDecodeError


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# A number literal that may overflow a float (an exponent of 3+ digits, or 309+ digits).
_HUGE_NUMBER = re.compile(r"[0-9.][eE][+]?[0-9]{3}|[0-9]{309}")


def _non_finite(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if item.__class__ is float:
            if not math.isfinite(item):
                return True
        elif item.__class__ is dict:
            stack.extend(item.values())
        elif item.__class__ is list:
            stack.extend(item)
    return False


def check_finite(value: Any, text: str) -> Any:
    """``value`` (parsed from ``text``), or `Malformed` when a number in it overflowed to
    infinity (``1e400``): the same rule as for ``NaN``, so no decoder stores an infinity."""
    if _HUGE_NUMBER.search(text) is not None and _non_finite(value):
        raise Malformed("json", "invalid JSON (a number too large for a float)")
    return value


def loads(text: str) -> Any:
    """Parse JSON: orjson, falling back to the stdlib for lone-surrogate escapes (lossless).

    Raises `Malformed` (kind ``json``) for invalid JSON, ``NaN``, ``Infinity`` and numbers that
    overflow a float included.
    """
    try:
        return check_finite(_orjson_loads(text), text)
    except _OrjsonError:
        pass
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise Malformed("json", f"invalid JSON ({exc})") from None
    return check_finite(value, text)


class StreamDecoder:
    """Base class of the protocol decoders: bytes in, chunks out.

    ``strict=True`` (the default, like the official decoders) raises one `DecodeError` for the
    first malformed frame; ``strict=False`` drops malformed frames and logs a warning once per
    kind. Unknown frame types are always skipped (logged once at debug level) so newer servers
    keep working.

    With ``coalesce=True`` (the default) adjacent text/reasoning/argument deltas for the same
    target that arrive in one read become one chunk (the message is the same, and a fast
    stream costs far fewer objects); ``coalesce=False`` yields one chunk per frame.

    `feed` and `close` are the synchronous core (one read in, the chunks it completes out);
    `decode_stream` drives them over an async or sync iterable of ``bytes``.
    """

    #: Protocol name used in error messages.
    protocol: ClassVar[str] = "stream"

    def __init__(self, strict: bool = True, *, coalesce: bool = True) -> None:
        self.strict = strict
        self.coalesce = coalesce
        self._logged: set[str] = set()
        self.done = False
        self._closed = False
        self.reset()

    # -- to implement ----------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything read so far (called by `decode_stream` before it starts)."""
        self.done = False
        self._closed = False

    def _feed(self, data: bytes) -> list[Any]:
        raise NotImplementedError

    def _close(self) -> list[Any]:
        raise NotImplementedError

    # -- public ----------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[AssistantStreamChunk]:
        """Decode one read of the body; return the chunks it completes."""
        if self.done:
            return []
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DecodeError(
                f"{self.protocol}: expected bytes from the stream, got {type(data).__name__}"
            )
        try:
            return self._feed(bytes(data) if not isinstance(data, bytes) else data)
        except DecodeError:
            raise
        except Malformed as exc:
            raise DecodeError(f"{self.protocol}: {exc.detail}") from None
        except _SHAPE_ERRORS as exc:
            raise DecodeError(f"{self.protocol}: could not decode the stream ({exc!r})") from exc

    def close(self) -> list[AssistantStreamChunk]:
        """Signal the end of the body; return the chunks that completes."""
        if self._closed:
            return []
        self._closed = True
        try:
            return self._close()
        except DecodeError:
            raise
        except Malformed as exc:
            raise DecodeError(f"{self.protocol}: {exc.detail}") from None
        except _SHAPE_ERRORS as exc:
            raise DecodeError(f"{self.protocol}: could not decode the stream ({exc!r})") from exc

    async def decode_stream(self, source: ByteSource) -> AsyncIterator[AssistantStreamChunk]:
        """Decode a whole body given as an async or sync iterable of ``bytes``.

        Yields chunks as soon as their frames are complete. Stops reading after the protocol's
        terminator. Raises `DecodeError` (only) for a body that breaks the protocol; errors of
        the source itself propagate unchanged.
        """
        if isinstance(source, (bytes, bytearray, memoryview, str)):
            raise DecodeError(
                f"{self.protocol}: expected an iterable of bytes, got {type(source).__name__}"
            )
        self.reset()
        feed = self.feed
        if hasattr(source, "__aiter__"):
            iterator = source.__aiter__()
            try:
                async for data in iterator:
                    for chunk in feed(data):
                        yield chunk
                    if self.done:
                        break
            finally:
                if self.done:
                    aclose = getattr(iterator, "aclose", None)
                    if aclose is not None:
                        await aclose()
        else:
            for data in source:
                for chunk in feed(data):
                    yield chunk
                if self.done:
                    break
        for chunk in self.close():
            yield chunk

    def decode(self, data: bytes) -> list[AssistantStreamChunk]:
        """Decode a complete body at once."""
        self.reset()
        return self.feed(data) + self.close()

    # -- helpers for subclasses ------------------------------------------------------------

    def _fail(self, line: int, error: Malformed) -> None:
        """A malformed frame: raise in strict mode, else log once per kind and drop it."""
        message = f"{self.protocol}: line {line}: {error.detail}"
        if self.strict:
            raise DecodeError(message)
        if error.kind not in self._logged:
            self._logged.add(error.kind)
            logger.warning("%s (dropped; further %r problems are not logged)", message, error.kind)

    def _warn_once(self, kind: str, message: str) -> None:
        if kind not in self._logged:
            self._logged.add(kind)
            logger.warning("%s: %s", self.protocol, message)

    def _unknown(self, kind: str) -> None:
        """An unknown frame type: skipped in both modes (forward compatibility)."""
        key = "unknown:" + kind
        if key not in self._logged:
            self._logged.add(key)
            logger.debug("%s: unknown frame type %r skipped", self.protocol, kind)


class SSEStreamDecoder(StreamDecoder):
    """Base of the decoders of SSE protocols with a terminator: events come from the shared
    `SSEParser` and go to `_decode_events`; a body that ends before the terminator is
    ``missing_end`` (a malformed stream: raised in strict mode, logged in lenient mode), and
    `_end` completes what the end of the body closes."""

    #: (kind, message) of the problem when the body ends without the protocol's terminator.
    missing_end: ClassVar[tuple[str, str]] = ("no-end", "the stream ended without its end")

    def reset(self) -> None:
        super().reset()
        self._sse = SSEParser(self.protocol)

    def _feed(self, data: bytes) -> list[Any]:
        events = self._sse.feed(data)
        return self._decode_events(events) if events else []

    def _close(self) -> list[Any]:
        out = [] if self.done else self._decode_events(self._sse.close())
        if not self.done:
            self._fail(self._sse.lines.line_count + 1, Malformed(*self.missing_end))
        self._end(out)
        return out

    def _decode_events(self, events: list[SSEEvent]) -> list[Any]:
        raise NotImplementedError

    def _end(self, out: list[Any]) -> None:
        """The body ended: add the chunks that closes (open arguments, a pending step)."""


def shape_error(kind: str, exc: BaseException) -> Malformed:
    """A `Malformed` for an exception raised while reading a frame's fields."""
    return Malformed(kind, f"unexpected {kind} frame shape ({type(exc).__name__}: {exc})")


def require(condition: bool, kind: str, detail: str) -> None:
    """Raise `Malformed` unless ``condition`` holds."""
    if not condition:
        raise Malformed(kind, f"{kind}: {detail}")


def get_str(obj: Any, key: str, kind: str) -> str:
    """``obj[key]`` as a string, or `Malformed`."""
    value = obj.get(key) if type(obj) is dict else None
    if type(value) is not str:
        raise Malformed(kind, f"{kind}: {key!r} must be a string")
    return value


def get_opt_str(obj: dict[str, Any], key: str, kind: str) -> str | None:
    """``obj[key]`` as a string or ``None`` when absent/null, else `Malformed`."""
    value = obj.get(key)
    if value is None or type(value) is str:
        return value
    raise Malformed(kind, f"{kind}: {key!r} must be a string")


def get_int(obj: Any, key: str) -> int:
    """A token count: a non-negative integer, 0 when absent or not a number."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    try:
        return max(0, int(value))
    except (ValueError, OverflowError):
        return 0


def check_operations(value: Any, kind: str) -> list[Any]:
    """Validate a list of state operations (``set`` / ``append-text``)."""
    require(type(value) is list, kind, "operations must be an array")
    for op in value:
        require(type(op) is dict, kind, "an operation must be an object")
        op_type = op.get("type")
        require(op_type in ("set", "append-text"), kind, "unknown operation type")
        path = op.get("path")
        require(
            type(path) is list and all(type(key) is str for key in path),
            kind,
            "'path' must be an array of strings",
        )
        require("value" in op, kind, "operation without 'value'")
        require(
            op_type == "set" or type(op["value"]) is str, kind, "append-text needs a string value"
        )
    operations: list[Any] = value
    return operations
