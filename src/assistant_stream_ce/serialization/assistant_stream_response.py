"""`AssistantStreamResponse`: a Starlette response that streams a run through an encoder.

One writer task sends the body; one listener task watches for the client's disconnect. The
writer waits for ready chunks, encodes each batch into one write, and after the run ends —
normally or by raising — writes the protocol's end of stream. One timer per response checks
for idleness: when nothing was written for the heartbeat interval it interrupts the wait and a
keepalive is written (no timer is created per chunk). A client that disconnects, or that stops
reading for longer than ``send_timeout``, ends the response and cancels the run.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Mapping

from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .._source import as_chunk_source
from ..assistant_stream_chunk import AssistantStreamChunk
from .heartbeat import (
    DEFAULT_HEARTBEAT_INTERVAL,
    HeartbeatOption,
    add_keepalive,
    resolve_heartbeat_interval,
)
from .stream_encoder import StreamEncoder, drive, encode_batches

__all__ = [
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_SEND_TIMEOUT",
    "DEFAULT_WRITE_INTERVAL",
    "AssistantStreamResponse",
    "HeartbeatOption",
    "add_keepalive",
    "resolve_heartbeat_interval",
]

logger = logging.getLogger("assistant_stream_ce.serialization")

DEFAULT_SEND_TIMEOUT = 30.0
DEFAULT_WRITE_INTERVAL = 0.005

STREAM_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
    "X-Content-Type-Options": "nosniff",
}


def _resolve_send_timeout(send_timeout: float | None) -> float | None:
    if send_timeout is None:
        return None
    value = float(send_timeout)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"send_timeout must be None or a positive finite number of seconds, "
            f"got {send_timeout!r}"
        )
    return value


def _resolve_write_interval(write_interval: float) -> float:
    value = float(write_interval)
    if not math.isfinite(value) or value < 0 or value > 1:
        raise ValueError(f"write_interval must be between 0 and 1 second, got {write_interval!r}")
    return value


class AssistantStreamResponse(Response):
    """Stream ``stream`` (from `create_run` or any async iterable of chunks) with an encoder.

    ``heartbeat``: idle keepalive interval (True = 15 s, False/0 = off). ``send_timeout``: seconds
    a single write may stay blocked on a client that stopped reading before the stream is
    abandoned and the run cancelled (None = wait forever). ``write_interval``: while chunks keep
    arriving, at most one write per this many seconds (5 ms by default), so a fast producer
    costs one write per few tokens; the first chunk after a pause is written at once
    (0 = write whatever is ready as soon as the writer can).
    """

    def __init__(
        self,
        stream: AsyncIterable[AssistantStreamChunk],
        stream_encoder: StreamEncoder,
        heartbeat: HeartbeatOption = True,
        *,
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.stream = as_chunk_source(stream)
        #: The chunks as given (an encoder written for 0.0.36 reads them itself).
        self.chunks = stream
        self.write_interval = _resolve_write_interval(write_interval)
        self.encoder = stream_encoder
        self.heartbeat_interval = resolve_heartbeat_interval(heartbeat)
        self.send_timeout = _resolve_send_timeout(send_timeout)
        self.status_code = status_code
        self.media_type = stream_encoder.get_media_type()
        self.background = background
        merged = {**STREAM_HEADERS, **stream_encoder.headers}
        if headers:
            merged.update(headers)
        self.init_headers(merged)
        #: Why the stream ended early, if it did: "disconnect" or "send-timeout".
        self.ended_early: str | None = None
        self._send_started: float | None = None
        self._time = time.monotonic  # replaced by the running loop's clock in _write
        self._last_write = 0.0
        self._watchdog: asyncio.TimerHandle | None = None
        self._heartbeat: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        writer = loop.create_task(self._write(send))
        listener = loop.create_task(self._listen_for_disconnect(receive, writer))
        if self.send_timeout is not None:
            self._watchdog = loop.call_later(self.send_timeout, self._check_send, writer)
        if self.heartbeat_interval is not None:
            self._last_write = loop.time()
            self._heartbeat = loop.call_later(self.heartbeat_interval, self._check_idle, writer)
        try:
            await asyncio.wait([writer])
        finally:
            for timer in (self._watchdog, self._heartbeat):
                if timer is not None:
                    timer.cancel()
            self._watchdog = self._heartbeat = None
            listener.cancel()
            if not writer.done():
                writer.cancel()
            await asyncio.wait([writer, listener])
            await self.stream.aclose()
        if not writer.cancelled() and writer.exception() is not None:
            raise writer.exception()  # type: ignore[misc]
        if self.background is not None and self.ended_early is None:
            await self.background()

    async def _listen_for_disconnect(self, receive: Receive, writer: asyncio.Task[None]) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if not writer.done():
                    self.ended_early = "disconnect"
                    writer.cancel()
                return

    def _check_idle(self, writer: asyncio.Task[None]) -> None:
        if writer.done():
            return
        loop = asyncio.get_running_loop()
        interval = self.heartbeat_interval
        assert interval is not None
        now = loop.time()
        idle_until = self._last_write + interval
        if now >= idle_until:
            self.stream.interrupt()
            idle_until = now + interval
        self._heartbeat = loop.call_later(idle_until - now, self._check_idle, writer)

    def _check_send(self, writer: asyncio.Task[None]) -> None:
        if writer.done():
            return
        loop = asyncio.get_running_loop()
        timeout = self.send_timeout
        assert timeout is not None
        started = self._send_started
        now = loop.time()
        if started is not None and now - started >= timeout:
            logger.warning(
                "client stopped reading for %.1f s; abandoning the stream and cancelling the run",
                timeout,
            )
            self.ended_early = "send-timeout"
            writer.cancel()
            return
        delay = timeout if started is None else started + timeout - now
        self._watchdog = loop.call_later(delay, self._check_send, writer)

    async def _send_body(self, send: Send, body: bytes, more_body: bool = True) -> None:
        self._send_started = started = self._time()
        await send({"type": "http.response.body", "body": body, "more_body": more_body})
        self._send_started = None
        self._last_write = started

    async def _write(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        self._time = asyncio.get_running_loop().time
        if not self.encoder.frame_level():
            await self._write_text(send)
            return
        frames = drive(self.stream, self.encoder, wake_interval=self.write_interval)
        try:
            async for batch in frames:  # a keepalive when the idle timer interrupted the wait
                await self._send_body(send, b"".join(batch))
            await self._send_body(send, b"", more_body=False)
        except OSError:
            # ASGI servers may raise on a write to a closed connection.
            self.ended_early = "disconnect"
        finally:
            await frames.aclose()

    async def _write_text(self, send: Send) -> None:
        """Serve an encoder that has only `encode_stream` (written for 0.0.36)."""
        texts = self._text_body()
        try:
            async for text in texts:
                await self._send_body(send, text.encode())
            await self._send_body(send, b"", more_body=False)
        except OSError:
            self.ended_early = "disconnect"
        finally:
            await texts.aclose()

    @property
    def body_iterator(self) -> AsyncIterator[str]:
        """The body as text, one frame or keepalive per item, without serving it (what
        ``StreamingResponse.body_iterator`` gave in assistant-stream 0.0.36)."""
        return self._text_body()

    async def _text_body(self) -> AsyncGenerator[str, None]:
        interval = self.heartbeat_interval
        encoder = self.encoder
        if not encoder.frame_level():
            texts: AsyncIterator[str] = encoder.encode_stream(self.chunks)
            token = encoder.get_keepalive_token()
            if interval is not None and token:
                texts = add_keepalive(texts, interval, token)
            try:
                async for text in texts:
                    yield text
            finally:
                aclose = getattr(texts, "aclose", None)
                if aclose is not None:
                    await aclose()
            return
        batches = encode_batches(self.stream, encoder, idle_timeout=interval)
        try:
            async for batch in batches:
                for frame in batch:
                    if frame:
                        yield frame.decode()
        finally:
            await batches.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.encoder.media_type}>"
