"""The ordered chunk buffer between producers (run callbacks, sub-streams) and one consumer.

Cost model: pushing a chunk from the loop's thread is a list append; the consumer is woken only
when it is waiting. The consumer takes everything that is ready in one batch, so an encoder can
turn it into one write. Adjacent deltas of the same kind and target that the consumer has not
taken yet are merged, so memory grows with the bytes waiting rather than with the number of
tiny objects; a batch is capped in size so that a backlog drains in bounded pieces.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .assistant_stream_chunk import (
    ErrorChunk,
    ReasoningDeltaChunk,
    TextDeltaChunk,
    ToolCallDeltaChunk,
    UpdateStateChunk,
)
from .errors import BufferOverflowError, RunClosedError

TEXT = 1
REASONING = 2
ARGS = 3

# A merged delta stops growing at this many characters (a new one starts after it).
MAX_MERGED_CHARS = 16 * 1024
# A batch handed to the consumer stops at about this many characters of deltas.
BATCH_CHARS = 64 * 1024
# Pieces kept unjoined in a merged delta before they are joined into one block.
_PIECES_PER_BLOCK = 64
# Below this many characters, merging is a plain string concatenation.
_CONCAT_CHARS = 1024
# Weight of a non-delta chunk when sizing a batch, and of one state operation.
_OTHER_WEIGHT = 64
_OPERATION_WEIGHT = 16
#: Characters waiting for the consumer above which producers that can wait (sub-streams,
#: provider adapters, `RunController.drain`) wait until it has taken half of them.
DEFAULT_HIGH_WATER = 1 << 20
#: Characters waiting above which a producer that cannot wait (a tight loop of ``append_*``)
#: fails the run with `BufferOverflowError` instead of growing memory without bound.
DEFAULT_MAX_BUFFERED = 64 << 20
# Wakes closer together than this mean a hot producer: batch by deferring the next wake.
HOT_PRODUCER_SECONDS = 0.0005
# How many loop ticks the wake of a hot producer's consumer is deferred by.
HOT_DEFER_TICKS = 6
# With a wake interval: the window is interval + LAG_WINDOW_FACTOR * loop lag, at most
# MAX_WINDOW_FACTOR * interval (20 ms with the responses' 5 ms): a wider window would hold a
# token back for a large share of a model's inter-token time (50 ms at 20 tokens/s), and after
# one such hold the next token of a steady stream lands inside the window again, so every
# token of it would be held and pairs of them merged (100 ms gaps for the client).
LAG_WINDOW_FACTOR = 4.0
MAX_WINDOW_FACTOR = 4.0

_monotonic = time.monotonic


class _MergedDelta:
    """Several adjacent, unread deltas for one target, joined when the consumer takes them."""

    __slots__ = ("blocks", "key", "kind", "parent_id", "pieces", "size")

    def __init__(
        self, kind: int, key: str | None, parent_id: str | None, first: str, second: str
    ) -> None:
        self.kind = kind
        self.key = key
        self.parent_id = parent_id
        self.pieces = [first, second]
        self.blocks: list[str] = []
        self.size = len(first) + len(second)

    def add(self, text: str) -> None:
        pieces = self.pieces
        pieces.append(text)
        self.size += len(text)
        if len(pieces) >= _PIECES_PER_BLOCK:
            self.blocks.append("".join(pieces))
            self.pieces = []

    def to_chunk(self) -> Any:
        if self.blocks:
            self.blocks.extend(self.pieces)
            text = "".join(self.blocks)
        else:
            text = "".join(self.pieces)
        if self.kind == TEXT:
            return TextDeltaChunk(text, "text-delta", self.parent_id)
        if self.kind == REASONING:
            return ReasoningDeltaChunk(text, "reasoning-delta", self.parent_id)
        assert self.key is not None
        return ToolCallDeltaChunk(self.key, text)


def _weight(item: Any) -> int:
    cls = item.__class__
    if cls is _MergedDelta:
        return int(item.size)
    if cls is TextDeltaChunk:
        return len(item.text_delta)
    if cls is ReasoningDeltaChunk:
        return len(item.reasoning_delta)
    if cls is ToolCallDeltaChunk:
        return len(item.args_text_delta)
    if cls is UpdateStateChunk:
        return _OTHER_WEIGHT + _OPERATION_WEIGHT * (len(item.operations) - 1)
    return _OTHER_WEIGHT


class ChunkBuffer:
    """Ordered, merging chunk buffer with a single waiting consumer.

    Not thread-safe by itself: callers on other threads go through ``loop.call_soon_threadsafe``.
    """

    __slots__ = (
        "_exception",
        "_items",
        "_last_wake",
        "_loop",
        "_loop_lag",
        "_merge_key",
        "_merge_kind",
        "_open_state",
        "_pending",
        "_waiter",
        "_weight",
        "_woken_at",
        "_writable",
        "cancelled",
        "closed",
        "coalesce",
        "high_water",
        "max_buffered",
        "wake_interval",
    )

    def __init__(
        self,
        *,
        coalesce: bool = True,
        high_water: int = DEFAULT_HIGH_WATER,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
    ) -> None:
        if not 0 < high_water <= max_buffered:
            raise ValueError(
                f"need 0 < high_water <= max_buffered, got {high_water} and {max_buffered}"
            )
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None
        # A consumer wake scheduled for later by `_wake` (resolved early by finish/interrupt).
        self._pending: asyncio.Future[None] | None = None
        self._last_wake = 0.0
        # When the consumer was (or will be) woken, and a moving average of how late it ran.
        self._woken_at = 0.0
        self._loop_lag = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Minimum seconds between two wakes of a busy consumer (0: no minimum).
        self.wake_interval = 0.0
        self._weight = 0
        # What the last item may be merged with: (kind, key); kind 0 = nothing.
        self._merge_kind = 0
        self._merge_key: str | None = None
        self._open_state: UpdateStateChunk | None = None
        self._exception: BaseException | None = None
        self.closed = False
        #: Whether the producer ended by being cancelled (set before `finish`).
        self.cancelled = False
        self.coalesce = coalesce
        #: Backpressure: see `DEFAULT_HIGH_WATER` and `DEFAULT_MAX_BUFFERED`.
        self.high_water = high_water
        self.max_buffered = max_buffered
        self._writable: asyncio.Future[None] | None = None

    # -- producer side -------------------------------------------------------------------

    def _wake(self) -> None:
        """Wake the waiting consumer.

        With a ``wake_interval`` (set by the HTTP responses), a consumer woken less than that
        long ago is woken again only when the interval has passed: chunks arriving in the
        meantime are merged into one batch and one write. A chunk after a quiet period goes
        out at once. The interval grows with the measured delay between a wake and the
        consumer running (the event loop's lag), up to `MAX_WINDOW_FACTOR` times; beyond the
        interval itself, that wider window holds a wake back only for a producer whose chunks
        come less than half of it apart (a slower one would only wait longer for nothing).

        Without an interval, a very recent previous wake means a hot producer
        (one that yields after every token without waiting for I/O): the wake is then deferred
        by `HOT_DEFER_TICKS` loop ticks so the consumer wakes once per few tokens.
        """
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            now = _monotonic()
            since = now - self._last_wake
            interval = self.wake_interval
            if interval:
                # A busy event loop (the consumer woke late before) widens the window, so a
                # saturated server spends less per token (at most MAX_WINDOW_FACTOR times).
                window = min(
                    interval + LAG_WINDOW_FACTOR * self._loop_lag, interval * MAX_WINDOW_FACTOR
                )
                # Deferring pays only when more chunks are likely to land in the window: within
                # the interval itself (one write per interval), or when the last wake is under
                # half the widened window ago. A producer slower than that (a model at 20
                # tokens/s on a busy server) would only get a timer and a later write.
                if since < interval or since < window * 0.5:
                    self._pending = waiter
                    delay = window - since
                    waiter.get_loop().call_later(delay, _resolve, waiter)
                    self._last_wake = self._woken_at = now + delay
                    return
                self._woken_at = now  # to measure the loop's lag (only with an interval)
            if since < HOT_PRODUCER_SECONDS:
                waiter.get_loop().call_soon(_resolve_after_ticks, waiter, HOT_DEFER_TICKS)
            elif not waiter.done():
                waiter.set_result(None)
            self._last_wake = now

    def _ended(self) -> RunClosedError:
        return RunClosedError(
            "this run has ended: its controller (or a tool call's) was used after the run "
            "finished, so the chunk would never be sent"
        )

    def _overflow(self) -> BufferOverflowError:
        return BufferOverflowError(
            f"the client is reading too slowly: more than {self.max_buffered} characters are "
            "waiting to be sent, so the run was stopped (producers that can wait should await "
            "controller.drain())"
        )

    @property
    def writable(self) -> bool:
        """False while more than ``high_water`` characters wait for the consumer."""
        return self._weight <= self.high_water

    async def wait_writable(self) -> None:
        """Wait until the consumer has caught up (or the buffer finished)."""
        if self._weight <= self.high_water or self.closed:
            return
        waiter = self._writable
        if waiter is None:
            loop = self._loop or asyncio.get_running_loop()
            waiter = self._writable = loop.create_future()
        await asyncio.shield(waiter)

    def _release_writers(self) -> None:
        waiter = self._writable
        if waiter is not None:
            self._writable = None
            _resolve(waiter)

    def push(self, chunk: Any) -> None:
        """Append any chunk (never merged). Raises `RunClosedError` once the buffer is finished
        and `BufferOverflowError` past ``max_buffered`` (an error chunk always goes in)."""
        if self.closed:
            raise self._ended()
        if self._weight > self.max_buffered and chunk.__class__ is not ErrorChunk:
            raise self._overflow()
        self._items.append(chunk)
        self._weight += _OTHER_WEIGHT
        self._merge_kind = 0
        self._open_state = None
        if self._waiter is not None:
            self._wake()

    def push_delta(self, kind: int, key: str | None, text: str, parent_id: str | None) -> None:
        """Append a text/reasoning/args delta, merging it into an unread one for the same target.

        ``key`` identifies the target (parent id for text/reasoning, tool call id for args).
        """
        if self.closed:
            raise self._ended()
        weight = self._weight + len(text)
        if weight > self.max_buffered:
            raise self._overflow()
        self._weight = weight
        items = self._items
        if self._merge_kind == kind and self._merge_key == key and items:
            last = items[-1]
            if last.__class__ is _MergedDelta:
                if last.size < MAX_MERGED_CHARS:
                    last.add(text)
                    return
            # `last` is a chunk this buffer created (never shared before it is taken): short
            # texts are joined in place, longer ones move to a block merger (linear cost).
            elif kind == TEXT:
                first = last.text_delta
                if len(first) < _CONCAT_CHARS:
                    last.text_delta = first + text
                    return
                if len(first) < MAX_MERGED_CHARS:
                    items[-1] = _MergedDelta(kind, key, parent_id, first, text)
                    return
            elif kind == REASONING:
                first = last.reasoning_delta
                if len(first) < _CONCAT_CHARS:
                    last.reasoning_delta = first + text
                    return
                if len(first) < MAX_MERGED_CHARS:
                    items[-1] = _MergedDelta(kind, key, parent_id, first, text)
                    return
            else:
                first = last.args_text_delta
                if len(first) < _CONCAT_CHARS:
                    last.args_text_delta = first + text
                    return
                if len(first) < MAX_MERGED_CHARS:
                    items[-1] = _MergedDelta(kind, key, parent_id, first, text)
                    return
        if kind == TEXT:
            items.append(TextDeltaChunk(text, "text-delta", parent_id))
        elif kind == REASONING:
            items.append(ReasoningDeltaChunk(text, "reasoning-delta", parent_id))
        else:
            assert key is not None
            items.append(ToolCallDeltaChunk(key, text))
        if self.coalesce:
            self._merge_kind = kind
            self._merge_key = key
        self._open_state = None
        if self._waiter is not None:
            self._wake()

    def add(self, chunk: Any) -> None:
        """Append a chunk from another stream (deltas merge like a run's own)."""
        cls = chunk.__class__
        if cls is TextDeltaChunk:
            self.push_delta(TEXT, chunk.parent_id, chunk.text_delta, chunk.parent_id)
        elif cls is ReasoningDeltaChunk:
            self.push_delta(REASONING, chunk.parent_id, chunk.reasoning_delta, chunk.parent_id)
        elif cls is ToolCallDeltaChunk:
            self.push_delta(ARGS, chunk.tool_call_id, chunk.args_text_delta, None)
        else:
            self.push(chunk)

    def push_state_operation(self, operation: Any) -> None:
        """Add a state operation to the open update-state chunk at the tail, or open one."""
        open_state = self._open_state
        if open_state is not None:
            if self.closed:
                raise self._ended()
            if self._weight > self.max_buffered:
                raise self._overflow()
            self._weight += _OPERATION_WEIGHT  # state waiting counts towards the limits too
            open_state.operations.append(operation)
            return
        chunk = UpdateStateChunk([operation])
        self.push(chunk)
        self._open_state = chunk

    def close_state_batch(self) -> None:
        """Make the next state operation start a new update-state chunk."""
        self._open_state = None

    def interrupt(self) -> None:
        """Make a waiting `next_batch` return None now (used for keepalives)."""
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            _resolve(waiter)
        self._resolve_pending()

    def _resolve_pending(self) -> None:
        pending = self._pending
        if pending is not None:
            self._pending = None
            _resolve(pending)

    def finish(self, exception: BaseException | None = None) -> None:
        """No more chunks will come; the consumer drains, then stops (raising ``exception``)."""
        if self.closed:
            return
        self.closed = True
        self._exception = exception
        self._release_writers()
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            _resolve(waiter)
        self._resolve_pending()

    # -- consumer side -------------------------------------------------------------------

    def _take(self) -> list[Any]:
        items = self._items
        if self._weight <= BATCH_CHARS:
            self._items = []
            self._weight = 0
            batch = items
        else:
            total = 0
            cut = len(items)
            for index, item in enumerate(items):
                total += _weight(item)
                if total >= BATCH_CHARS:
                    cut = index + 1
                    break
            batch = items[:cut]
            del items[:cut]
            self._weight = max(self._weight - total, 0) if items else 0
        self._merge_kind = 0
        self._open_state = None
        if self._writable is not None and self._weight <= self.high_water // 2:
            self._release_writers()
        for index, item in enumerate(batch):
            if item.__class__ is _MergedDelta:
                batch[index] = item.to_chunk()
        return batch

    def take_nowait(self) -> list[Any] | None:
        """A ready batch, or None when nothing is ready (does not raise at the end)."""
        return self._take() if self._items else None

    @property
    def exhausted(self) -> bool:
        """True when the producers are done and everything has been taken."""
        return self.closed and not self._items

    @property
    def exception(self) -> BaseException | None:
        """The producer's exception, once it finished by raising (until raised to the consumer)."""
        return self._exception

    def raise_end(self) -> None:
        """Raise the producer's exception, or StopAsyncIteration."""
        exception = self._exception
        if exception is not None:
            self._exception = None
            raise exception
        raise StopAsyncIteration

    def wait(self) -> asyncio.Future[None] | None:
        """A future the consumer awaits until a batch may be ready, the buffer finished or
        `interrupt` was called; None when a batch is ready now or the buffer is finished.

        After awaiting it, the consumer calls `woken` (also when the wait was cancelled) and
        then `take_nowait`. This is `next_batch` without a coroutine of its own: a consumer
        that loops (the HTTP writer) awaits the future directly.
        """
        if self._items or self.closed:
            return None
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        return waiter

    def woken(self, waiter: asyncio.Future[None]) -> None:
        """The consumer's wait on ``waiter`` (from `wait`) is over (done or cancelled)."""
        if self._waiter is waiter:
            self._waiter = None
        self._pending = None
        woken_at = self._woken_at
        if woken_at:
            self._woken_at = 0.0
            lag = _monotonic() - woken_at
            if lag > 0:
                self._loop_lag += (lag - self._loop_lag) * 0.25

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until a batch may be ready, the buffer finished, `interrupt` was called or
        ``timeout`` seconds passed (`wait` and `woken` around one await). False when there
        was nothing to wait for (a batch is ready, or the buffer finished)."""
        waiter = self.wait()
        if waiter is None:
            return False
        handle = None
        if timeout is not None:
            handle = waiter.get_loop().call_later(timeout, _resolve, waiter)
        try:
            await waiter
        finally:
            if handle is not None:
                handle.cancel()
            self.woken(waiter)
        return True

    async def next_batch(self, timeout: float | None = None) -> list[Any] | None:
        """Wait for the next batch; None after ``timeout`` seconds with nothing ready.

        Raises StopAsyncIteration (or the producer's exception) once drained and closed.
        """
        if not self._items and not self.closed:
            await self.wait_ready(timeout)
        if self._items:
            return self._take()
        if self.closed:
            self.raise_end()
        return None


def _resolve_after_ticks(waiter: asyncio.Future[None], ticks: int) -> None:
    if ticks > 1:
        waiter.get_loop().call_soon(_resolve_after_ticks, waiter, ticks - 1)
    else:
        _resolve(waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
