"""`ResumableStreamContext`: run a byte stream once, detached from any connection, and let any
number of readers replay and follow it through a store."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal, cast

from .errors import ResumableStreamError, validate_stream_id
from .types import (
    Acquisition,
    ProducerHandle,
    ResumableStreamEntry,
    ResumableStreamRole,
    ResumableStreamStatus,
    ResumableStreamStore,
)

__all__ = [
    "FrameBatch",
    "MakeBatches",
    "MakeStream",
    "OnAcquire",
    "OnAppend",
    "OnError",
    "OnFinalize",
    "ResumableStreamContext",
    "WaitUntil",
    "create_resumable_stream_context",
    "scoped_stream_id",
]

logger = logging.getLogger("assistant_stream_ce.resumable")

MakeStream = Callable[[], AsyncIterator[bytes]]
#: A producer of lists of chunks (`ResumableStreamContext.start_batches`).
MakeBatches = Callable[[], AsyncIterator[list[bytes]]]
#: A batch read by `ResumableStreamContext.read_frames`: the first chunk's entry number (or
#: every chunk's cursor) and the chunks.
FrameBatch = tuple["int | list[str]", list[bytes]]
WaitUntil = Callable[["asyncio.Task[None]"], None]
OnAcquire = Callable[[str, ResumableStreamRole], None]
OnAppend = Callable[[str, int], None]
OnFinalize = Callable[[str, Literal["done", "error"], "str | None"], None]
OnError = Callable[[str, object], None]

#: After a stop request, how long a run may take to end on its own before it is cancelled.
STOP_GRACE_SECONDS = 5.0
#: Most chunks a producer holds while its previous batch is still being written.
MAX_BACKLOG = 4096

#: The message of the error that ends a stream whose producer task was cancelled (shutdown).
PRODUCER_CANCELLED = "The stream's producer was cancelled"

_SCOPED = re.compile(r"o_[0-9a-f]{32}:")


def scoped_stream_id(stream_id: str, owner: str | None) -> str:
    """The id a store sees for ``stream_id`` owned by ``owner`` (``None`` = unscoped).

    Scoped ids are ``o_<128-bit hash of the owner>:<stream_id>``, so the same id used by two
    owners names two streams and the owner itself never reaches the store. Unscoped ids of
    that form are refused, so nobody can name another owner's stream without being that owner.
    """
    validate_stream_id(stream_id)
    if owner is None:
        if _SCOPED.match(stream_id):
            raise ResumableStreamError(
                "invalid-id", "Stream ids starting with 'o_<32 hex digits>:' are reserved"
            )
        return stream_id
    if not isinstance(owner, str) or not owner:
        raise ValueError("owner must be a non-empty string")
    digest = hashlib.sha256(owner.encode("utf-8")).hexdigest()[:32]
    scoped = f"o_{digest}:{stream_id}"
    if len(scoped) > 256:
        raise ResumableStreamError(
            "invalid-id", "Stream ids used with an owner must be at most 221 characters"
        )
    return scoped


def _call_hook(hook: Callable[..., Any] | None, /, *args: Any) -> None:
    if hook is None:
        return
    try:
        hook(*args)
    except Exception:
        logger.debug("resumable stream hook %r failed", hook, exc_info=True)


class _Signal:
    """The reader's cancellation signal (set when the reader is closed)."""

    __slots__ = ("_event",)

    #: Tells stores that this signal is set only after its reader was closed, so a blocking
    #: call in progress need not be raced against it.
    set_only_after_close = True

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> bool:
        return await self._event.wait()


class _BasicProducer:
    """A producer handle over a store that only has the 0.0.36 interface."""

    batched = False
    lease_lost = False

    def __init__(self, store: ResumableStreamStore, stream_id: str) -> None:
        self._store = store
        self._stream_id = stream_id
        self.stop_requested = asyncio.Event()

    async def append_many(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            await self._store.append(self._stream_id, chunk)

    async def finalize(self, status: Literal["done", "error"], error: str | None = None) -> bool:
        await self._store.finalize(self._stream_id, status, error)
        return True

    async def close(self) -> None:
        return None


class _Batcher:
    """Writes chunks in order; while one batch is being written the next ones accumulate."""

    __slots__ = ("_error", "_handle", "_on_written", "_pending", "_task")

    def __init__(self, handle: ProducerHandle, on_written: Callable[[list[bytes]], None]) -> None:
        self._handle = handle
        self._on_written = on_written
        self._pending: list[bytes] = []
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    async def push(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        if not self._handle.batched:
            await self._handle.append_many([chunk])
            self._on_written([chunk])
            return
        self._pending.append(chunk)
        task = self._task
        if task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())
        elif len(self._pending) >= MAX_BACKLOG:
            await asyncio.wait([task])
            if self._error is not None:
                raise self._error

    async def push_many(self, chunks: list[bytes]) -> None:
        """Like `push` for every chunk of ``chunks`` (a handle that is not a round trip gets
        them in one call)."""
        if self._error is not None:
            raise self._error
        if not self._handle.batched:
            await self._handle.append_many(chunks)
            self._on_written(chunks)
            return
        self._pending += chunks
        task = self._task
        if task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())
        elif len(self._pending) >= MAX_BACKLOG:
            await asyncio.wait([task])
            if self._error is not None:
                raise self._error

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                await self._handle.append_many(batch)
                self._on_written(batch)
        except BaseException as exc:
            self._error = exc
            self._pending = []
        finally:
            self._task = None

    async def flush(self) -> None:
        """Wait until everything pushed is written; raise the write error, if any."""
        while self._task is not None:
            await asyncio.wait([self._task])
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        """Stop writing (the producer lost its stream)."""
        self._pending = []
        if self._task is not None:
            self._task.cancel()


class _PushBatcher:
    """For a producer handle that batches by itself (``push``/``flush``, the Redis store's):
    chunks are queued without a task or a future of their own."""

    __slots__ = ("_handle",)

    def __init__(self, handle: Any, on_written: Callable[[list[bytes]], None]) -> None:
        self._handle = handle
        handle.on_written = on_written

    async def push(self, chunk: bytes) -> None:
        handle = self._handle
        handle.push(chunk)
        if handle.backlog >= MAX_BACKLOG:
            await handle.flush()

    async def push_many(self, chunks: list[bytes]) -> None:
        handle = self._handle
        handle.push_many(chunks)
        if handle.backlog >= MAX_BACKLOG:
            await handle.flush()

    async def flush(self) -> None:
        await self._handle.flush()

    def abandon(self) -> None:
        self._handle.abandon()


class ResumableStreamContext:
    """Runs resumable streams on a store (create it with `create_resumable_stream_context`).

    The methods of 0.0.36 (`run`, `resume`, `require_resume`, `status`, `delete`) take an
    optional ``owner=`` (scope the id to a caller-supplied key, such as the user id; see
    `scoped_stream_id`); `resume` and `read_entries` take a ``cursor=``; `cancel` stops a run
    from any worker.
    """

    def __init__(
        self,
        store: ResumableStreamStore,
        *,
        ttl_ms: int | None = None,
        wait_until: WaitUntil | None = None,
        on_acquire: OnAcquire | None = None,
        on_append: OnAppend | None = None,
        on_finalize: OnFinalize | None = None,
        on_error: OnError | None = None,
    ) -> None:
        if ttl_ms is not None and (
            isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or ttl_ms <= 0
        ):
            raise ValueError(f"ttl_ms must be a positive integer, got {ttl_ms!r}")
        self.store = store
        self.ttl_ms = ttl_ms
        self._wait_until = wait_until
        self._on_acquire = on_acquire
        self._on_append = on_append
        self._on_finalize = on_finalize
        self._on_error = on_error
        self._tasks: set[asyncio.Task[None]] = set()

    # -- 0.0.36 API ---------------------------------------------------------------------------

    async def run(
        self, stream_id: str, make_stream: MakeStream, *, owner: str | None = None
    ) -> AsyncIterator[bytes]:
        """Start ``make_stream()`` as the stream's producer (unless it is already streaming,
        then join it) and return a reader of the whole stream.

        The producer runs as a task of its own: it keeps going when readers go away. An id whose
        stream already finished is refused (``exists``) — use a new id, or `delete` it first.
        """
        await self._start(stream_id, make_stream, owner, None)
        return self._read_bytes(scoped_stream_id(stream_id, owner), "")

    async def resume(
        self, stream_id: str, *, owner: str | None = None, cursor: str = ""
    ) -> AsyncIterator[bytes] | None:
        """A reader of the stream from ``cursor`` (``""`` = the start), or None if missing."""
        sid = scoped_stream_id(stream_id, owner)
        if await self.store.status(sid) == "missing":
            return None
        return self._read_bytes(sid, cursor)

    async def require_resume(
        self, stream_id: str, *, owner: str | None = None, cursor: str = ""
    ) -> AsyncIterator[bytes]:
        """Like `resume`, raising `ResumableStreamError` (``missing``) instead of None."""
        reader = await self.resume(stream_id, owner=owner, cursor=cursor)
        if reader is None:
            raise ResumableStreamError("missing", f"resumable stream not found: {stream_id}")
        return reader

    async def status(self, stream_id: str, *, owner: str | None = None) -> ResumableStreamStatus:
        """``streaming``, ``done``, ``error`` or ``missing``."""
        return await self.store.status(scoped_stream_id(stream_id, owner))

    async def delete(self, stream_id: str, *, owner: str | None = None) -> None:
        """Forget the stream (its id may then start a new run)."""
        await self.store.delete(scoped_stream_id(stream_id, owner))

    # -- extensions ------------------------------------------------------------------------

    async def cancel(self, stream_id: str, *, owner: str | None = None) -> bool:
        """Stop the stream's run, on whichever worker it runs; False if it is not streaming.

        The run is cancelled, the stream's end is recorded, and its readers end normally. Needs
        a store with ``request_stop`` (both stores of this library have it).
        """
        sid = scoped_stream_id(stream_id, owner)
        request_stop = getattr(self.store, "request_stop", None)
        if request_stop is None:
            raise TypeError(f"{type(self.store).__name__} cannot stop runs (no request_stop)")
        return bool(await request_stop(sid))

    def read_entries(
        self, stream_id: str, *, owner: str | None = None, cursor: str = ""
    ) -> AsyncIterator[ResumableStreamEntry]:
        """The stream's entries (cursor and bytes) after ``cursor``, following it live."""
        return self._read(scoped_stream_id(stream_id, owner), cursor)

    def read_entry_batches(
        self,
        stream_id: str,
        *,
        owner: str | None = None,
        cursor: str = "",
        idle: float | None = None,
    ) -> AsyncIterator[list[ResumableStreamEntry]]:
        """Like `read_entries`, the entries available at once in one list at a time (a store
        without ``read_batches`` gives one entry per list), and an empty list after every
        ``idle`` seconds without entries (time for a keepalive)."""
        return self._read_batches(scoped_stream_id(stream_id, owner), cursor, idle)

    async def start(
        self,
        stream_id: str,
        make_stream: MakeStream,
        *,
        owner: str | None = None,
        on_stop: Callable[[], Awaitable[None]] | None = None,
    ) -> ResumableStreamRole:
        """Like `run` without the reader: the role this call got.

        ``on_stop`` is awaited when a stop is requested: it should make ``make_stream``'s
        iterator end by itself (its remaining output is still recorded); without it the
        iterator is cancelled.
        """
        return await self._start(stream_id, make_stream, owner, on_stop)

    async def start_batches(
        self,
        stream_id: str,
        make_batches: MakeBatches,
        *,
        owner: str | None = None,
        on_stop: Callable[[], Awaitable[None]] | None = None,
    ) -> ResumableStreamRole:
        """Like `start` for a producer that yields lists of chunks (an encoder's ready frames):
        each list is handed to the store at once (one entry per chunk, as with `start`)."""
        return await self._start(stream_id, make_batches, owner, on_stop, batches=True)

    def read_frames(
        self,
        stream_id: str,
        *,
        owner: str | None = None,
        cursor: str = "",
        idle: float | None = None,
    ) -> AsyncIterator[FrameBatch]:
        """Like `read_entry_batches`, each batch as ``(cursors, chunks)``: ``cursors`` is the
        first chunk's entry number (the others follow it) for this library's stores, or the
        list of every chunk's cursor for a store without ``read_frames``."""
        sid = scoped_stream_id(stream_id, owner)
        read_frames = getattr(self.store, "read_frames", None)
        if read_frames is None:
            return self._frames_of_entries(self._read_batches(sid, cursor, idle))
        # A signal set only once the reader is closed: nothing watches it during a wait, so
        # the store's generator is handed out as it is (no layer in between).
        frames: AsyncIterator[FrameBatch] = read_frames(sid, cursor, _Signal(), idle=idle)
        return frames

    # -- internals -------------------------------------------------------------------------

    async def _start(
        self,
        stream_id: str,
        make_stream: MakeStream | MakeBatches,
        owner: str | None,
        on_stop: Callable[[], Awaitable[None]] | None,
        *,
        batches: bool = False,
    ) -> ResumableStreamRole:
        sid = scoped_stream_id(stream_id, owner)
        store = self.store
        acquire_producer = getattr(store, "acquire_producer", None)
        if acquire_producer is not None:
            acquired: Acquisition = await acquire_producer(sid, ttl_ms=self.ttl_ms)
        else:
            basic_role = await store.acquire(sid, ttl_ms=self.ttl_ms)
            if basic_role == "producer":
                acquired = Acquisition("producer", _BasicProducer(store, sid))
            elif await store.status(sid) in ("done", "error"):
                acquired = Acquisition("finished")
            else:
                acquired = Acquisition("consumer")
        if acquired.role == "finished":
            raise ResumableStreamError(
                "exists",
                f"stream id already used by a finished stream: {stream_id} "
                "(use a new id, or delete the old stream first)",
            )
        role: ResumableStreamRole = acquired.role
        _call_hook(self._on_acquire, stream_id, role)
        if acquired.producer is not None:
            task = asyncio.get_running_loop().create_task(
                self._produce(stream_id, acquired.producer, make_stream, on_stop, batches)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            if self._wait_until is not None:
                self._wait_until(task)
        return role

    async def _produce(
        self,
        stream_id: str,
        handle: ProducerHandle,
        make_stream: MakeStream | MakeBatches,
        on_stop: Callable[[], Awaitable[None]] | None,
        batches: bool = False,
    ) -> None:
        on_append = self._on_append

        def written(chunks: list[bytes]) -> None:
            if on_append is not None:
                for chunk in chunks:
                    _call_hook(on_append, stream_id, len(chunk))

        batcher: _Batcher | _PushBatcher = (
            _PushBatcher(handle, written)
            if hasattr(handle, "push") and hasattr(handle, "flush")
            else _Batcher(handle, written)
        )

        async def feed() -> None:
            if batches:
                push_many = batcher.push_many
                # A store that writes in round trips may ask to take the next batch only once
                # the one in flight is answered (the Redis store does while it is busy with
                # several streams), so what the run makes meanwhile is encoded into fewer,
                # larger frames — the same content.
                acknowledged = getattr(handle, "acknowledged", None)
                async for frames in cast(MakeBatches, make_stream)():
                    if frames:
                        await push_many(frames)
                    if acknowledged is not None:
                        answered = acknowledged()
                        if answered is not None:
                            await answered
                if getattr(handle, "finalize_after_pushes", False):
                    return  # the end follows the last chunks in the same round trip
            else:
                push = batcher.push
                async for chunk in cast(MakeStream, make_stream)():
                    await push(chunk)
            await batcher.flush()

        loop = asyncio.get_running_loop()
        feeder = loop.create_task(feed())
        stop_wait = loop.create_task(handle.stop_requested.wait())
        stopped = False
        try:
            await asyncio.wait([feeder, stop_wait], return_when=asyncio.FIRST_COMPLETED)
            if not feeder.done():
                stopped = True
                if handle.lease_lost or on_stop is None:
                    feeder.cancel()
                else:
                    try:
                        await on_stop()
                    except Exception:
                        logger.exception("stopping a resumable run failed")
                    await asyncio.wait([feeder], timeout=STOP_GRACE_SECONDS)
                    feeder.cancel()
                await asyncio.wait([feeder])
            error: BaseException | None = None
            if not feeder.cancelled():
                error = feeder.exception()
            elif stopped:
                try:
                    await batcher.flush()
                except Exception as exc:
                    error = exc
            if error is None and not handle.lease_lost:
                try:
                    ended = await handle.finalize("done")
                except Exception as exc:  # the last chunks could not be written
                    error = exc
                else:
                    if ended:
                        _call_hook(self._on_finalize, stream_id, "done", None)
                        return
                    if not handle.lease_lost:
                        return  # ended by someone else (a delete, say)
            if handle.lease_lost:
                batcher.abandon()
                logger.warning("resumable stream %s: the producer lost its lease", stream_id)
                _call_hook(
                    self._on_error,
                    stream_id,
                    error or ResumableStreamError("lease-lost", "the producer lost its lease"),
                )
                return
            assert error is not None
            _call_hook(self._on_error, stream_id, error)
            message = str(error) or repr(error)
            try:
                if await handle.finalize("error", message):
                    _call_hook(self._on_finalize, stream_id, "error", message)
            except Exception as exc:
                logger.error("resumable stream %s: finalize failed: %s", stream_id, exc)
        except asyncio.CancelledError:
            # The producer task itself was cancelled (shutdown): end the stream with an error.
            feeder.cancel()
            batcher.abandon()
            try:
                await asyncio.shield(handle.finalize("error", PRODUCER_CANCELLED))
            except Exception as exc:
                logger.debug("finalizing a cancelled producer failed: %s", exc)
            raise
        finally:
            stop_wait.cancel()
            await handle.close()

    async def _read(self, sid: str, cursor: str) -> AsyncIterator[ResumableStreamEntry]:
        signal = _Signal()
        try:
            async for entry in self.store.read(sid, cursor, signal):
                yield entry
        finally:
            signal.set()

    async def _read_batches(
        self, sid: str, cursor: str, idle: float | None
    ) -> AsyncIterator[list[ResumableStreamEntry]]:
        signal = _Signal()
        read_batches = getattr(self.store, "read_batches", None)
        if read_batches is None:  # a store with the 0.0.36 interface only (never leaves the loop)
            entries = self.store.read(sid, cursor, signal)
            waiting: asyncio.Future[ResumableStreamEntry] | None = None
            try:
                while True:
                    if idle is None:
                        try:
                            yield [await entries.__anext__()]
                        except StopAsyncIteration:
                            return
                        continue
                    if waiting is None:
                        waiting = asyncio.ensure_future(entries.__anext__())
                    done, _ = await asyncio.wait([waiting], timeout=idle)
                    if not done:
                        yield []
                        continue
                    finished, waiting = waiting, None
                    try:
                        yield [finished.result()]
                    except StopAsyncIteration:
                        return
            finally:
                signal.set()
                if waiting is not None:
                    waiting.cancel()
                    await asyncio.gather(waiting, return_exceptions=True)
                await entries.aclose()  # type: ignore[attr-defined]
        batches: AsyncIterator[list[ResumableStreamEntry]] = (
            read_batches(sid, cursor, signal)
            if idle is None
            else read_batches(sid, cursor, signal, idle=idle)
        )
        try:
            async for batch in batches:
                yield batch
        finally:
            signal.set()
            await batches.aclose()  # type: ignore[attr-defined]

    @staticmethod
    async def _frames_of_entries(
        batches: AsyncIterator[list[ResumableStreamEntry]],
    ) -> AsyncIterator[FrameBatch]:
        try:
            async for batch in batches:
                yield [entry.cursor for entry in batch], [entry.chunk for entry in batch]
        finally:
            await batches.aclose()  # type: ignore[attr-defined]

    async def _read_bytes(self, sid: str, cursor: str) -> AsyncIterator[bytes]:
        signal = _Signal()
        try:
            async for entry in self.store.read(sid, cursor, signal):
                yield entry.chunk
        finally:
            signal.set()


def create_resumable_stream_context(
    *,
    store: ResumableStreamStore,
    ttl_ms: int | None = None,
    wait_until: WaitUntil | None = None,
    on_acquire: OnAcquire | None = None,
    on_append: OnAppend | None = None,
    on_finalize: OnFinalize | None = None,
    on_error: OnError | None = None,
) -> ResumableStreamContext:
    """A context running resumable streams on ``store``.

    ``ttl_ms`` overrides the store's time to live; ``wait_until`` receives each producer task
    (for serverless hosts that must keep it alive); the hooks observe acquisitions, appended
    chunk sizes, ends and producer errors (a hook that raises is logged and ignored).
    """
    return ResumableStreamContext(
        store,
        ttl_ms=ttl_ms,
        wait_until=wait_until,
        on_acquire=on_acquire,
        on_append=on_append,
        on_finalize=on_finalize,
        on_error=on_error,
    )
