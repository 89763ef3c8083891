"""A resumable-stream store in this process's memory (one worker; lost on restart)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from typing import Literal

from .._wait import IdleTicker, SignalWatch, parse_cursor, wake
from ..errors import DEFAULT_TTL_MS, ResumableStreamError, validate_stream_id
from ..types import (
    Acquisition,
    CancellationSignal,
    ResumableStreamRole,
    ResumableStreamStatus,
)
from ..types import ResumableStreamEntry as ResumableStreamEntry  # 0.0.36 exposes it here
from ._frames import FrameReads

__all__ = ["InMemoryResumableStreamStore", "create_in_memory_resumable_stream_store"]


class _Stream:
    __slots__ = (
        "chunks",
        "error",
        "expires_at",
        "final",
        "producer",
        "timer",
        "ttl_ms",
        "waiters",
    )

    def __init__(self, expires_at: float, ttl_ms: int) -> None:
        self.chunks: list[bytes] = []  # entry with cursor n is chunks[n - 1]
        self.final: Literal["done", "error"] | None = None
        self.error: str | None = None
        self.expires_at = expires_at
        self.ttl_ms = ttl_ms
        self.waiters: list[asyncio.Future[None]] = []
        self.producer: _MemoryProducer | None = None
        # Wakes the waiting readers when the stream may have expired: one timer per stream
        # (armed by a waiting reader), not one per wait.
        self.timer: asyncio.TimerHandle | None = None

    def notify(self) -> None:
        waiters, self.waiters = self.waiters, []
        for future in waiters:
            wake(future)
        if self.final is not None and self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def expiry_due(self) -> None:
        self.timer = None
        self.notify()


class _MemoryProducer:
    """The producer's handle on an in-memory stream (writes only while it is the same stream)."""

    batched = False

    def __init__(self, store: InMemoryResumableStreamStore, stream_id: str, state: _Stream) -> None:
        self._store = store
        self._stream_id = stream_id
        self._state = state
        self.stop_requested = asyncio.Event()
        self.lease_lost = False

    async def append_many(self, chunks: list[bytes]) -> None:
        store = self._store
        state = self._state
        if (
            store._max_chunk_bytes is None
            and store._max_entries is None
            and state.final is None
            and store._streams.get(self._stream_id) is state
            and state.expires_at > (now := store._now())
            and all(type(chunk) is bytes for chunk in chunks)
        ):  # the usual case, without the general checks
            state.chunks += chunks
            state.expires_at = now + state.ttl_ms
            state.notify()
            return
        store._append(self._stream_id, chunks, state)

    async def finalize(self, status: Literal["done", "error"], error: str | None = None) -> bool:
        return self._store._finalize(self._stream_id, status, error, self._state)

    async def close(self) -> None:
        if self._state.producer is self:
            self._state.producer = None


class InMemoryResumableStreamStore(FrameReads):
    """Streams kept in a dict: replay from any cursor, live readers woken on each append.

    Cursors are decimal sequence numbers (``"1"``, ``"2"``, …). Use one store per process;
    for several workers use the Redis store.
    """

    def __init__(
        self,
        *,
        default_ttl_ms: int = DEFAULT_TTL_MS,
        now: Callable[[], float] | None = None,
        max_chunk_bytes: int | None = None,
        max_entries_per_stream: int | None = None,
        max_streams: int | None = None,
        gc_interval_ms: int | None = None,
    ) -> None:
        for name, value in (
            ("default_ttl_ms", default_ttl_ms),
            ("max_chunk_bytes", max_chunk_bytes),
            ("max_entries_per_stream", max_entries_per_stream),
            ("max_streams", max_streams),
            ("gc_interval_ms", gc_interval_ms),
        ):
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self._streams: dict[str, _Stream] = {}
        self._default_ttl_ms = default_ttl_ms
        self._now = now if now is not None else (lambda: time.time() * 1000)
        self._max_chunk_bytes = max_chunk_bytes
        self._max_entries = max_entries_per_stream
        self._max_streams = max_streams
        self._gc_interval_ms = gc_interval_ms
        self._gc_task: asyncio.Task[None] | None = None
        self._disposed = False

    # -- expiry ----------------------------------------------------------------------------

    def _ensure_gc(self) -> None:
        if self._gc_interval_ms is None or self._disposed or self._gc_task is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._gc_task = loop.create_task(self._gc_loop(self._gc_interval_ms / 1000))

    async def _gc_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.evict_expired()

    def evict_expired(self) -> None:
        """Drop every expired stream now (readers following one end with an error)."""
        now = self._now()
        for stream_id in [k for k, s in self._streams.items() if s.expires_at <= now]:
            self._expire(stream_id)

    def _expire(self, stream_id: str) -> None:
        state = self._streams.pop(stream_id)
        if state.final is None:
            state.final, state.error = "error", "Stream expired"
        state.notify()

    def _get(self, stream_id: str) -> _Stream | None:
        self._ensure_gc()
        validate_stream_id(stream_id)
        state = self._streams.get(stream_id)
        if state is not None and state.expires_at <= self._now():
            self._expire(stream_id)
            return None
        return state

    # -- the 0.0.36 store interface -----------------------------------------------------------

    async def acquire(self, stream_id: str, *, ttl_ms: int | None = None) -> ResumableStreamRole:
        """``producer`` for a new (or expired) stream id, else ``consumer``."""
        acquired = self._acquire(stream_id, ttl_ms, with_handle=False)
        return "producer" if acquired.role == "producer" else "consumer"

    async def acquire_producer(self, stream_id: str, *, ttl_ms: int | None = None) -> Acquisition:
        """Like `acquire`, with a producer handle, and ``finished`` for an ended stream."""
        return self._acquire(stream_id, ttl_ms, with_handle=True)

    def _acquire(self, stream_id: str, ttl_ms: int | None, *, with_handle: bool) -> Acquisition:
        state = self._get(stream_id)
        if state is not None:
            return Acquisition("consumer" if state.final is None else "finished")
        if self._max_streams is not None and len(self._streams) >= self._max_streams:
            self.evict_expired()
            if len(self._streams) >= self._max_streams:
                raise ResumableStreamError("limit", "maxStreams exceeded")
        ttl = self._default_ttl_ms if ttl_ms is None else ttl_ms
        if not isinstance(ttl, int) or ttl <= 0:
            raise ValueError(f"ttl_ms must be a positive integer, got {ttl!r}")
        state = _Stream(self._now() + ttl, ttl)
        self._streams[stream_id] = state
        if not with_handle:
            return Acquisition("producer")
        producer = _MemoryProducer(self, stream_id, state)
        state.producer = producer
        return Acquisition("producer", producer)

    async def append(self, stream_id: str, chunk: bytes) -> None:
        """Record ``chunk``; raises ``missing``/``finalized``/``limit`` errors."""
        self._append(stream_id, [chunk], None)

    def _append(self, stream_id: str, chunks: list[bytes], owner: _Stream | None) -> None:
        state = self._get(stream_id)
        if state is None or (owner is not None and state is not owner):
            raise ResumableStreamError("missing", f"Stream not found: {stream_id}")
        if state.final is not None:
            raise ResumableStreamError("finalized", f"Stream already finalized: {stream_id}")
        limit = self._max_chunk_bytes
        for chunk in chunks:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError(f"chunks must be bytes, got {type(chunk).__name__}")
            if limit is not None and len(chunk) > limit:
                raise ResumableStreamError("limit", f"Chunk exceeds maxChunkBytes: {len(chunk)}")
        if self._max_entries is not None and len(state.chunks) + len(chunks) > self._max_entries:
            raise ResumableStreamError("limit", f"Stream exceeded maxEntriesPerStream: {stream_id}")
        state.chunks.extend([chunk if type(chunk) is bytes else bytes(chunk) for chunk in chunks])
        state.expires_at = self._now() + state.ttl_ms
        state.notify()

    async def finalize(
        self, stream_id: str, status: Literal["done", "error"], error: str | None = None
    ) -> bool:
        """End the stream; False if it had already ended."""
        return self._finalize(stream_id, status, error, None)

    def _finalize(
        self,
        stream_id: str,
        status: Literal["done", "error"],
        error: str | None,
        owner: _Stream | None,
    ) -> bool:
        if status not in ("done", "error"):
            raise ValueError(f"status must be 'done' or 'error', got {status!r}")
        state = self._get(stream_id)
        if state is None or (owner is not None and state is not owner):
            if owner is not None:
                return False
            raise ResumableStreamError("missing", f"Stream not found: {stream_id}")
        if state.final is not None:
            return False
        state.final = status
        if status == "error":
            state.error = error if error is not None else "Stream errored"
        state.expires_at = self._now() + state.ttl_ms
        state.notify()
        return True

    async def read_frames(
        self, stream_id: str, cursor: str, signal: CancellationSignal, *, idle: float | None = None
    ) -> AsyncGenerator[tuple[int, list[bytes]], None]:
        """Like `read_batches`, each batch as the first entry's number and the chunks."""
        state = self._get(stream_id)
        if state is None:
            raise ResumableStreamError("missing", f"Stream not found: {stream_id}")
        position = parse_cursor(cursor)
        if position > len(state.chunks):
            raise ResumableStreamError("invalid-id", f"Cursor {cursor} is ahead of the stream")
        watch = SignalWatch(signal)
        # A signal that is only set once its reader is closed needs no watching during a wait.
        quiet = bool(getattr(signal, "set_only_after_close", False))
        ticker = IdleTicker(idle)
        loop = asyncio.get_running_loop()
        try:
            while True:
                chunks = state.chunks
                if position < len(chunks):
                    if signal.is_set():
                        return
                    first = position + 1
                    batch = chunks[position:]
                    position += len(batch)
                    yield first, batch
                    ticker.active()
                    continue
                if signal.is_set():
                    return
                if state.final is not None:
                    if state.final == "error":
                        raise ResumableStreamError("failed", state.error or "Stream errored")
                    return
                future: asyncio.Future[None] = loop.create_future()
                state.waiters.append(future)
                if not quiet:
                    watch.arm(future)
                ticker.arm(future)
                if state.timer is None:
                    remaining_s = (state.expires_at - self._now()) / 1000
                    state.timer = loop.call_later(max(remaining_s, 0), state.expiry_due)
                await future
                if state.final is None and self._get(stream_id) is not state:
                    state.final, state.error = "error", "Stream expired"
                if ticker.due():
                    yield position + 1, []
        finally:
            ticker.close()
            await watch.close()
            if state.timer is not None and not state.waiters:
                state.timer.cancel()
                state.timer = None

    async def status(self, stream_id: str) -> ResumableStreamStatus:
        """``streaming``, ``done``, ``error`` or ``missing``."""
        state = self._get(stream_id)
        if state is None:
            return "missing"
        return "streaming" if state.final is None else state.final

    async def delete(self, stream_id: str) -> None:
        """Forget the stream; readers following it end without an error."""
        validate_stream_id(stream_id)
        state = self._streams.pop(stream_id, None)
        if state is None:
            return
        if state.final is None:
            state.final = "done"
        state.notify()

    # -- extensions ------------------------------------------------------------------------

    async def request_stop(self, stream_id: str) -> bool:
        """Ask the producer of a streaming stream to stop; False if none is streaming."""
        state = self._get(stream_id)
        if state is None or state.final is not None:
            return False
        if state.producer is not None:
            state.producer.stop_requested.set()
        return True

    def dispose(self) -> None:
        """Stop the background sweeper (if ``gc_interval_ms`` started one)."""
        self._disposed = True
        if self._gc_task is not None:
            self._gc_task.cancel()
            self._gc_task = None

    async def aclose(self) -> None:
        """Same as `dispose` (for symmetry with the Redis store)."""
        self.dispose()


def create_in_memory_resumable_stream_store(
    *,
    default_ttl_ms: int = DEFAULT_TTL_MS,
    now: Callable[[], float] | None = None,
    max_chunk_bytes: int | None = None,
    max_entries_per_stream: int | None = None,
    max_streams: int | None = None,
    gc_interval_ms: int | None = None,
) -> InMemoryResumableStreamStore:
    """A store in this process's memory.

    ``now`` is the clock in milliseconds (for tests); ``max_*`` limits refuse appends or new
    streams beyond them; ``gc_interval_ms`` sweeps expired streams in the background.
    """
    return InMemoryResumableStreamStore(
        default_ttl_ms=default_ttl_ms,
        now=now,
        max_chunk_bytes=max_chunk_bytes,
        max_entries_per_stream=max_entries_per_stream,
        max_streams=max_streams,
        gc_interval_ms=gc_interval_ms,
    )
