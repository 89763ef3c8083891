"""`AssistantStreamResponse`: a Starlette response that streams a run through an encoder.

The task that calls the response writes the body (no writer task of its own); one listener
task runs the server's ``receive()`` to see the client's disconnect. The writer waits for ready
chunks, encodes each batch into one write, and after the run ends — normally or by raising —
writes the protocol's end of stream. One timer per response checks for idleness: when nothing
was written for the heartbeat interval it interrupts the wait and a keepalive is written (no
timer is created per chunk). A client that disconnects, or that stops reading for longer than
``send_timeout``, cancels the write (only the write: the request's task then ends normally)
and the run.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Mapping
from typing import Any

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
from .stream_encoder import FrameLoop, StreamEncoder, encode_batches

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


# The raw default headers per (response class, media type, charset, encoder headers).
_DEFAULT_HEADERS: dict[tuple[Any, ...], tuple[tuple[bytes, bytes], ...]] = {}
_DEFAULT_HEADERS_LIMIT = 256


def _cancelled_by_others(task: asyncio.Task[Any] | None) -> bool:
    """Whether ``task`` was also asked to cancel by someone else (Python 3.11+ counts the
    requests; on 3.10 a request of ours cannot be told apart from another's)."""
    cancelling = getattr(task, "cancelling", None)
    return cancelling is not None and cancelling() > 1


def _uncancel(task: asyncio.Task[Any] | None) -> None:
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        uncancel()


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
        self._init_stream_headers(stream_encoder.headers, headers)
        #: Why the stream ended early, if it did: "disconnect" or "send-timeout".
        self.ended_early: str | None = None
        self._send_started: float | None = None
        self._time = time.monotonic  # replaced by the running loop's clock in _write
        self._last_write = 0.0
        self._watchdog: asyncio.TimerHandle | None = None
        self._heartbeat: asyncio.TimerHandle | None = None
        self._listener: asyncio.Future[Any] | None = None
        self._receive: Receive | None = None
        self._task: asyncio.Task[Any] | None = None
        self._writing = False
        self._cancel_requested = False

    def _init_stream_headers(
        self, encoder_headers: Mapping[str, str], headers: Mapping[str, str] | None
    ) -> None:
        if headers:
            self.init_headers({**STREAM_HEADERS, **encoder_headers, **headers})
            return
        # Without headers of the caller's, every response of one class and encoder shares its
        # header tuples (a new list each, so one response's header changes stay its own).
        key = (type(self), self.media_type, self.charset, tuple(encoder_headers.items()))
        cached = _DEFAULT_HEADERS.get(key)
        if cached is None:
            self.init_headers({**STREAM_HEADERS, **encoder_headers})
            if len(_DEFAULT_HEADERS) < _DEFAULT_HEADERS_LIMIT:
                _DEFAULT_HEADERS[key] = tuple(self.raw_headers)
            return
        self.raw_headers = list(cached)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        # The body is written from the task that called us (no writer task). A disconnect or
        # a client that stopped reading cancels this task while it writes; that cancellation
        # is ours and ends only the write (see `_stop_writing`).
        self._task = asyncio.current_task()
        self._listen(receive)
        if self.send_timeout is not None:
            self._watchdog = loop.call_later(self.send_timeout, self._check_send)
        if self.heartbeat_interval is not None:
            self._last_write = loop.time()
            self._heartbeat = loop.call_later(self.heartbeat_interval, self._check_idle)
        self._writing = True
        try:
            await self._write(send)
        except asyncio.CancelledError:
            if not self._cancel_requested or _cancelled_by_others(self._task):
                raise
        finally:
            self._writing = False
            if self._cancel_requested:
                self._cancel_requested = False
                _uncancel(self._task)
            for timer in (self._watchdog, self._heartbeat):
                if timer is not None:
                    timer.cancel()
            self._watchdog = self._heartbeat = None
            listener = self._listener
            self._listener = None
            if listener is not None:
                listener.cancel()
            await self.stream.aclose()
        if self.background is not None and self.ended_early is None:
            await self.background()

    def _stop_writing(self, reason: str) -> None:
        """End the write under way (the client left, or stopped reading): cancel the task
        that writes, once; `__call__` takes that cancellation back when the write ends."""
        if not self._writing or self._cancel_requested:
            return
        self.ended_early = reason
        task = self._task
        if task is not None:
            self._cancel_requested = True
            task.cancel()

    def _listen(self, receive: Receive) -> None:
        """Wait for the client's next message in a task of its own; a disconnect ends the
        write. (The task runs ``receive()`` itself: no coroutine of ours stays alive per
        idle stream.)"""
        self._receive = receive
        listener = self._listener = asyncio.ensure_future(receive())
        listener.add_done_callback(self._received)

    def _received(self, listener: asyncio.Future[Any]) -> None:
        if listener is not self._listener:
            return
        self._listener = None
        if listener.cancelled():
            return
        error = listener.exception()
        if error is not None:
            logger.debug("receiving from the client failed; treating it as gone", exc_info=error)
        if error is not None or listener.result()["type"] == "http.disconnect":
            self._stop_writing("disconnect")
            return
        receive = self._receive
        assert receive is not None
        self._listen(receive)  # more of the request body: keep listening

    def _check_idle(self) -> None:
        if not self._writing:
            return
        loop = asyncio.get_running_loop()
        interval = self.heartbeat_interval
        assert interval is not None
        now = loop.time()
        idle_until = self._last_write + interval
        if now >= idle_until:
            self.stream.interrupt()
            idle_until = now + interval
        self._heartbeat = loop.call_later(idle_until - now, self._check_idle)

    def _check_send(self) -> None:
        if not self._writing:
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
            self._stop_writing("send-timeout")
            return
        delay = timeout if started is None else started + timeout - now
        self._watchdog = loop.call_later(delay, self._check_send)

    async def _send_body(self, send: Send, body: bytes, more_body: bool = True) -> None:
        self._send_started = started = self._time()
        await send({"type": "http.response.body", "body": body, "more_body": more_body})
        self._send_started = None
        self._last_write = started

    async def _write(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        time = self._time = asyncio.get_running_loop().time
        encoder = self.encoder
        if not encoder.frame_level():
            await self._write_text(send)
            return
        # The drive loop's steps, inlined: per write, one await of the buffer's future and one
        # of ``send`` (no generator or helper coroutine between them).
        steps = FrameLoop(self.stream, encoder, wake_interval=self.write_interval)
        buffer = steps.buffer
        frames_now = steps.frames
        wait = buffer.wait
        woken = buffer.woken
        keepalive = [encoder.keepalive]
        try:
            while not steps.finished:
                frames = frames_now()
                while not frames and not steps.finished:
                    waiter = wait()
                    if waiter is None:
                        frames = frames_now()
                        continue
                    try:
                        await waiter
                    finally:
                        woken(waiter)
                    frames = frames_now()
                    if frames is None:
                        frames = keepalive  # the idle timer interrupted the wait
                self._send_started = started = time()
                await send(
                    {
                        "type": "http.response.body",
                        "body": frames[0] if len(frames) == 1 else b"".join(frames),
                        "more_body": True,
                    }
                )
                self._send_started = None
                self._last_write = started
            await self._send_body(send, b"", more_body=False)
        except OSError:
            # ASGI servers may raise on a write to a closed connection.
            self.ended_early = "disconnect"

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
