"""The encoder interface (chunks in, wire frames out) and the one loop that drives it.

`FrameLoop` is the only place a chunk source meets an encoder: the response classes step it
directly, and `drive` (the same loop as an async generator) serves `iter_bytes`,
`encode_stream` and the RAIS helpers. It takes every batch that is ready without
awaiting, encodes each batch at once, stops at a terminal frame, and always ends with the
protocol's end of stream — also when the run raised (its error frame is already encoded) or the
encoder itself failed.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from typing import Any, ClassVar

from .._buffer import ChunkBuffer
from .._json import dumps
from .._source import ChunkSource, as_chunk_source
from ..assistant_stream_chunk import AssistantStreamChunk, ErrorChunk
from ..errors import SerializationError
from .heartbeat import SSE_HEARTBEAT_LINE

__all__ = [
    "INTERNAL_ERROR",
    "FrameLoop",
    "MessageTotals",
    "StreamEncoder",
    "close_source",
    "drive",
    "encode_batches",
    "encode_operations",
]

logger = logging.getLogger("assistant_stream_ce.serialization")

#: The error frame's text when encoding itself failed (the details go to the server log).
INTERNAL_ERROR = "Internal error while streaming the response"


class MessageTotals:
    """What a message-finish frame reports: the final reason and the usage summed over steps."""

    __slots__ = ("input_tokens", "last_reason", "output_tokens", "usage_reported")

    def __init__(self) -> None:
        self.last_reason: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0
        #: Whether any step reported a non-zero token count.
        self.usage_reported = False

    def step_finished(self, chunk: Any) -> None:
        self.last_reason = chunk.finish_reason
        input_tokens = int(chunk.input_tokens or 0)
        output_tokens = int(chunk.output_tokens or 0)
        if input_tokens or output_tokens:
            self.usage_reported = True
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens

    def finish_reason(self, unanswered: bool) -> str:
        """``tool-calls`` while a call waits for a result (client's turn), else the last step's
        (``stop`` when there was none, or when the last step's calls were all answered)."""
        if unanswered:
            return "tool-calls"
        if self.last_reason is None or self.last_reason == "tool-calls":
            return "stop"
        return self.last_reason

    def usage(self) -> dict[str, int]:
        return {"inputTokens": self.input_tokens, "outputTokens": self.output_tokens}


def encode_operations(operations: list[Any]) -> tuple[list[Any], bytes | None, list[str]]:
    """State operations as JSON: (the operations sent, their JSON or None, a problem per
    operation that has no JSON form). One bad value costs its own operation, not the batch."""
    try:
        return operations, dumps(operations, "update-state"), []
    except SerializationError:
        pass
    valid: list[Any] = []
    problems: list[str] = []
    for operation in operations:
        try:
            dumps(operation, "update-state")
        except (SerializationError, RecursionError) as exc:
            path = operation.get("path") if isinstance(operation, dict) else None
            problems.append(f"state at {path} not changed: {exc}")
        else:
            valid.append(operation)
    return valid, (dumps(valid, "update-state") if valid else None), problems


def log_failure_at_terminal_frame(buffer: ChunkBuffer) -> bool:
    """At a terminal frame (the stream ends early): log the run's exception if it already
    raised, and say whether it did."""
    exception = buffer.exception
    if exception is None:
        return False
    logger.error("the run failed; its error was sent to the client", exc_info=exception)
    return True


def _log_run_failure(exc: BaseException) -> None:
    logger.error("the run failed; its error was sent to the client", exc_info=exc)


class StreamEncoder(ABC):
    """Turns chunks into the frames of one wire protocol.

    An encoder instance holds the state of one response (open parts, indices); make a new one
    per stream. `encode_frames` may be called many times, then `finish_frames` exactly once.
    Every item they return is one complete frame (an SSE event, a data-stream line).
    """

    #: Media type of the response body.
    media_type: ClassVar[str]
    #: Protocol-specific response headers (markers such as ``x-vercel-ai-data-stream``).
    headers: ClassVar[dict[str, str]] = {}
    #: Bytes sent when the stream has been idle (b"": no keepalive).
    keepalive: ClassVar[bytes] = b""
    #: Whether frames are server-sent events (they may then carry ``id:`` lines).
    sse: ClassVar[bool] = True

    def encode_frames(self, chunks: list[Any]) -> list[bytes]:
        """Encode ready chunks (in order) into frames (every encoder of ours implements it;
        an encoder written for assistant-stream 0.0.36 overrides `encode_stream` instead)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement encode_frames")

    def finish_frames(self, failed: bool = False) -> list[bytes]:
        """Close every open part and write the protocol's end of stream.

        ``failed`` says the run ended by raising (its error frame was already written), so no
        successful message finish may follow.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement finish_frames")

    @classmethod
    def frame_level(cls) -> bool:
        """Whether this encoder implements the frame-level interface (else only
        `encode_stream`, like the encoders written for assistant-stream 0.0.36)."""
        return cls.encode_frames is not StreamEncoder.encode_frames

    def encode_batch(self, chunks: list[Any]) -> bytes:
        """Encode ready chunks into one piece of the body."""
        return b"".join(self.encode_frames(chunks))

    def finish(self, failed: bool = False) -> bytes:
        """`finish_frames` as one piece of the body."""
        return b"".join(self.finish_frames(failed))

    def run_cancelled(self) -> None:
        """The source ended because its run was cancelled (called before `finish_frames`);
        a protocol with a word for that (the UI message stream's ``abort``) remembers it."""
        return None

    @property
    def closed(self) -> bool:
        """True once a terminal frame was written (an error that ends the protocol's stream).

        The drive loop then ends the body at once and the run is cancelled.
        """
        return False

    def get_media_type(self) -> str:
        """The response media type (kept for compatibility)."""
        return self.media_type

    def get_keepalive_token(self) -> str | None:
        """The idle keepalive text; for an encoder without one, the SSE comment when its media
        type is ``text/event-stream``, else None (no keepalives)."""
        keepalive = getattr(self, "keepalive", None)
        if keepalive:
            return str(keepalive.decode())
        return SSE_HEARTBEAT_LINE if self.get_media_type() == "text/event-stream" else None

    def encode_chunk(self, chunk: AssistantStreamChunk) -> str:
        """Encode a single chunk (convenience; prefer `encode_batch`)."""
        return self.encode_batch([chunk]).decode()

    def iter_bytes(self, stream: AsyncIterable[AssistantStreamChunk]) -> AsyncIterator[bytes]:
        """Encode a whole stream: one ``bytes`` per ready batch, then the end of stream.

        If the run fails, its error frame has already been encoded; the failure is logged and
        the stream still ends properly. Closing this iterator early closes the run.
        """
        return _Joined(drive(as_chunk_source(stream), self, own_source=True))

    async def encode_stream(
        self, stream: AsyncIterable[AssistantStreamChunk]
    ) -> AsyncIterator[str]:
        """Encode a whole stream as text, exactly one frame per item (the interface of the
        library we succeed). Chunks of a plain async iterable are not merged."""
        batches = drive(as_chunk_source(stream, coalesce=False), self, own_source=True)
        try:
            async for batch in batches:
                for frame in batch:
                    yield frame.decode()
        finally:
            await batches.aclose()


class _Joined:
    """The batches of `drive`, each joined into one ``bytes`` (a plain iterator: no async
    generator layered on the drive loop's own)."""

    __slots__ = ("_batches",)

    def __init__(self, batches: AsyncGenerator[list[bytes], None]) -> None:
        self._batches = batches

    def __aiter__(self) -> _Joined:
        return self

    async def __anext__(self) -> bytes:
        return b"".join(await self._batches.__anext__())

    async def aclose(self) -> None:
        await self._batches.aclose()


# Closes still running after their consumer was cancelled (kept referenced until done).
_closing: set[asyncio.Future[None]] = set()


async def close_source(source: ChunkSource) -> None:
    """Close ``source`` even if the consumer is being cancelled (the close then finishes on
    its own, so a cancelled request still cancels its run)."""
    if source.buffer.closed:
        await source.aclose()  # the producers are done: nothing to wait for or cancel
        return
    closing = asyncio.ensure_future(source.aclose())
    try:
        await asyncio.shield(closing)
    except asyncio.CancelledError:
        if not closing.done():
            _closing.add(closing)
            closing.add_done_callback(_closing.discard)
        raise


def encode_batches(
    source: ChunkSource, encoder: StreamEncoder, **options: Any
) -> AsyncGenerator[list[bytes], None]:
    """`drive` that owns ``source``: the source is closed when the batches end or are closed."""
    return drive(source, encoder, own_source=True, **options)


class FrameLoop:
    """The drive loop as steps, for a writer that awaits the buffer's futures itself.

    `frames` returns what to write next: an encoded batch, or at the end the protocol's tail
    (`finished` is then true). None means nothing was ready, and ``[]`` that what was ready
    encoded to no frame: await ``buffer.wait()`` (when it is not None), call ``buffer.woken``
    and ask again. None right after a wait means the wait was interrupted (a keepalive is
    due). `drive` is this loop as an async generator.
    """

    __slots__ = ("_batch", "_internal_error", "_on_run_failure", "buffer", "encoder", "finished")

    def __init__(
        self,
        source: ChunkSource,
        encoder: StreamEncoder,
        *,
        wake_interval: float | None = None,
        on_run_failure: Callable[[BaseException], None] = _log_run_failure,
        internal_error: str = INTERNAL_ERROR,
    ) -> None:
        self.encoder = encoder
        self.finished = False
        self._on_run_failure = on_run_failure
        self._internal_error = internal_error
        self._batch = source.take_nowait()  # the first take starts the run
        self.buffer = buffer = source.buffer
        if wake_interval is not None:
            buffer.wake_interval = wake_interval

    def frames(self) -> list[bytes] | None:
        """The frames to write now; None or ``[]`` when there are none (see the class docs)."""
        if self.finished:
            raise RuntimeError("the stream has ended: no frames follow its tail")
        buffer = self.buffer
        encoder = self.encoder
        took: list[bytes] | None = None
        try:
            while True:
                batch = self._batch
                if batch is None:
                    batch = buffer.take_nowait()
                else:
                    self._batch = None
                if batch is None:
                    if not buffer.closed:
                        return took
                    failed = False
                    try:
                        buffer.raise_end()
                    except StopAsyncIteration:
                        pass
                    except Exception as exc:
                        self._on_run_failure(exc)
                        failed = True
                    return self._tail(failed)
                if batch:
                    frames = encoder.encode_frames(batch)
                    if encoder.closed:
                        # The protocol's stream ended (a terminal error): nothing more may follow.
                        return frames + self._tail(log_failure_at_terminal_frame(buffer))
                    if frames:
                        return frames
                    took = frames
        except Exception:
            logger.exception("encoding the stream failed")
            self.finished = True
            tail = encoder.encode_frames([ErrorChunk(self._internal_error)])
            return tail + encoder.finish_frames(failed=True)

    def _tail(self, failed: bool) -> list[bytes]:
        self.finished = True
        if self.buffer.cancelled and not failed:
            self.encoder.run_cancelled()
        return self.encoder.finish_frames(failed)


async def drive(
    source: ChunkSource,
    encoder: StreamEncoder,
    *,
    idle_timeout: float | None = None,
    wake_interval: float | None = None,
    on_run_failure: Callable[[BaseException], None] = _log_run_failure,
    internal_error: str = INTERNAL_ERROR,
    own_source: bool = False,
) -> AsyncGenerator[list[bytes], None]:
    """Encode ``source``'s chunks with ``encoder``: one list of frames per ready batch.

    A wait that ends with nothing ready — after ``idle_timeout`` seconds, or because someone
    called ``source.interrupt()`` — yields ``[encoder.keepalive]``. ``wake_interval`` sets the
    buffer's write coalescing (`ChunkBuffer.wake_interval`). The last list holds the end of
    stream. A run that raises is reported to ``on_run_failure`` (its error frame was encoded
    already); an encoder that raises is logged and replaced by an error frame with
    ``internal_error``. With ``own_source`` the source is closed when the generator ends or is
    closed (`close_source`); otherwise the caller closes it.
    """
    try:
        steps = FrameLoop(
            source,
            encoder,
            wake_interval=wake_interval,
            on_run_failure=on_run_failure,
            internal_error=internal_error,
        )
        buffer = steps.buffer
        keepalive = [encoder.keepalive]
        while not steps.finished:
            frames = steps.frames()
            while not frames and not steps.finished:
                waited = await buffer.wait_ready(idle_timeout)
                frames = steps.frames()
                if frames is None and waited:
                    frames = keepalive  # interrupted, or idle for idle_timeout
            yield frames
    finally:
        if own_source:
            await close_source(source)
