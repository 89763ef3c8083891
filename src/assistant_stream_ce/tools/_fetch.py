"""One streaming request, recorded frame by frame with timings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..accumulator import accumulate
from ..errors import DecodeError
from ..serialization import PROTOCOLS, detect_protocol, get_protocol
from ..serialization.decoding import Malformed, loads
from ._wire import Frame, Framer, Interpreter, interpreter_for, is_sse

__all__ = ["DEFAULT_BODY", "Exchange", "accumulated_message", "record"]

DEFAULT_BODY: dict[str, Any] = {"messages": [{"role": "user", "content": "Hello!"}]}
#: How long one exchange may take in all, and how many body bytes it may read.
DEFAULT_MAX_TIME = 300.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass
class Exchange:
    """What one request got back: status, headers, frames (with times), body, how it ended."""

    url: str
    format: str
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    frames: list[Frame] = field(default_factory=list)
    body: bytes = b""
    headers_at: float | None = None
    first_byte_at: float | None = None
    ended_at: float = 0.0
    #: Set when the connection failed or broke before the body ended normally.
    transport_error: str | None = None
    #: True when `record` stopped reading on purpose (``stop_after``).
    aborted: bool = False
    #: Why the protocol could not be detected (``format`` left empty), if it could not.
    detect_error: str | None = None

    @property
    def data_frames(self) -> list[Frame]:
        return [frame for frame in self.frames if not frame.keepalive]

    @property
    def keepalives(self) -> list[Frame]:
        return [frame for frame in self.frames if frame.keepalive]

    @property
    def text_frames(self) -> list[Frame]:
        return [frame for frame in self.frames if frame.text]

    @property
    def media_type(self) -> str:
        content_type: str = self.headers.get("content-type", "")
        return content_type.split(";")[0].strip().lower()

    def ending(self) -> str:
        """``done``, ``error`` or ``cut-off`` (transport error, partial frame, no end marker)."""
        frames = self.data_frames
        if any(frame.error is not None for frame in frames):
            return "error"
        if self.transport_error or self.aborted or any(not f.terminated for f in self.frames):
            return "cut-off"
        if any(frame.terminal == "done" for frame in frames):
            return "done"
        # The data stream has no end marker: a body that ended after a whole line is complete.
        if self.format == "data-stream" and self.status == 200:
            return "done"
        return "cut-off"


def record(
    url: str,
    format_name: str | None,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    on_frame: Callable[[Frame], None] | None = None,
    stop_after: int | None = None,
    client: httpx.Client | None = None,
    max_time: float = DEFAULT_MAX_TIME,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Exchange:
    """POST ``body`` (JSON, or raw ``bytes``) to ``url`` and read the streamed answer.

    ``format_name`` None detects the protocol from the response (a marker header, a media type
    only one protocol uses, else the first data frame); ``exchange.format`` says what it found
    (empty when nothing matched: ``detect_error`` says why). ``on_frame`` sees every frame as
    it is read; ``stop_after`` closes the connection after that many data frames (an abort).
    ``timeout`` bounds each read; ``max_time`` (seconds) and ``max_bytes`` bound the whole
    exchange: past either, reading stops and ``transport_error`` says which limit it was.
    """
    exchange = Exchange(url, format_name or "")
    framer: Framer | None = None
    interpreter: Interpreter | None = None
    waiting: list[Frame] = []  # frames read before the protocol was known
    own_client = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0))
    request_headers = {"Accept": "text/event-stream, text/plain, */*", **(headers or {})}
    content = body if isinstance(body, bytes) else None
    started = time.perf_counter()

    def use(name: str) -> None:
        nonlocal interpreter
        exchange.format = name
        interpreter = interpreter_for(name)

    def add(frames: list[Frame]) -> bool:
        for frame in frames:
            if interpreter is None:
                waiting.append(frame)
                if frame.data is None or frame.data == "[DONE]":
                    continue
                try:
                    payload = loads(frame.data)
                except Malformed:
                    continue
                detected = detect_protocol(exchange.headers, payload)
                if detected is None:
                    continue
                use(detected)
                pending = list(waiting)
                waiting.clear()
                if add(pending):
                    return True
                continue
            interpreter.interpret(frame)
            exchange.frames.append(frame)
            if on_frame is not None:
                on_frame(frame)
        return stop_after is not None and len(exchange.data_frames) >= stop_after

    if format_name is not None:
        use(format_name)
    try:
        with http.stream(
            "POST",
            url,
            json=None if content is not None else body,
            content=content,
            headers=request_headers,
        ) as response:
            exchange.headers_at = time.perf_counter() - started
            exchange.status = response.status_code
            exchange.headers = response.headers
            if interpreter is None:
                detected = detect_protocol(response.headers)
                if detected is not None:
                    use(detected)
            sse = (
                is_sse(exchange.format)
                if exchange.format
                else "event-stream" in (response.headers.get("content-type", ""))
            )
            framer = Framer(sse)
            chunks: list[bytes] = []
            size = 0
            for data in response.iter_bytes():
                now = time.perf_counter() - started
                if exchange.first_byte_at is None:
                    exchange.first_byte_at = now
                size += len(data)
                if size > max_bytes:
                    exchange.transport_error = (
                        f"stopped reading: the body passed {max_bytes} bytes (--max-bytes)"
                    )
                    break
                if now > max_time:
                    exchange.transport_error = (
                        f"stopped reading: the stream ran longer than {max_time:g} s (--max-time)"
                    )
                    break
                chunks.append(data)
                if add(framer.feed(data, now)):
                    exchange.aborted = True
                    break
            exchange.body = b"".join(chunks)
            if not exchange.aborted and exchange.transport_error is None:
                add(framer.close(time.perf_counter() - started))
    except httpx.HTTPError as exc:
        exchange.transport_error = (
            f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        )
    except DecodeError as exc:
        exchange.transport_error = str(exc)
    finally:
        exchange.ended_at = time.perf_counter() - started
        if own_client:
            http.close()
    if interpreter is None and exchange.status is not None:
        exchange.detect_error = (
            "could not tell the protocol from the response "
            f"(Content-Type: {exchange.headers.get('content-type', 'none')}); "
            f"pass --format ({', '.join(PROTOCOLS)})"
        )
    return exchange


def accumulated_message(exchange: Exchange) -> dict[str, Any]:
    """The message the body adds up to, read by the library's own (lenient) decoder.

    On a body the decoder cannot read, ``{"decode_error": ...}`` instead.
    """
    decoder = _decoder(exchange.format)

    async def decode() -> list[Any]:
        return [chunk async for chunk in decoder.decode_stream([exchange.body])]

    try:
        chunks = asyncio.run(decode())
    except DecodeError as exc:
        return {"decode_error": str(exc)}
    return accumulate(chunks).to_dict()


def _decoder(format_name: str) -> Any:
    return get_protocol(format_name).decoder(strict=False)
