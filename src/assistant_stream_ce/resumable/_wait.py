"""Waiting for "something changed" or a reader's cancellation signal, without a task per wait."""

from __future__ import annotations

import asyncio
from contextlib import suppress

from .errors import ResumableStreamError
from .types import CancellationSignal

__all__ = ["IdleTicker", "SignalWatch", "parse_cursor", "wake"]


class SignalWatch:
    """Resolves the reader's current wait future when its signal is set.

    One watcher task per reader (created on first use), instead of one per wait.
    """

    __slots__ = ("_current", "_signal", "_task")

    def __init__(self, signal: CancellationSignal) -> None:
        self._signal = signal
        self._task: asyncio.Task[None] | None = None
        self._current: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        return self._signal.is_set()

    def arm(self, future: asyncio.Future[None]) -> None:
        """Make the signal resolve ``future`` (the wait in progress)."""
        self._current = future
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        await self._signal.wait()
        future = self._current
        if future is not None and not future.done():
            future.set_result(None)

    async def close(self) -> None:
        task = self._task
        self._task = None
        if task is not None and not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


def wake(future: asyncio.Future[None]) -> None:
    """Resolve ``future`` unless it is done already."""
    if not future.done():
        future.set_result(None)


def parse_cursor(cursor: str) -> int:
    """The sequence number in a cursor (``""`` = before the first entry)."""
    if cursor == "":
        return 0
    valid = isinstance(cursor, str) and cursor.isascii() and cursor.isdigit()
    if not valid or len(cursor) > 18:
        shown = repr(cursor)[:40] if isinstance(cursor, str) else type(cursor).__name__
        raise ResumableStreamError("invalid-id", f"Invalid cursor: {shown} (expected digits)")
    return int(cursor)


class IdleTicker:
    """Tells a reader when ``interval`` seconds went by without a batch, by waking its current
    wait: one timer per quiet interval for the whole read, not one per wait (``None`` = never).
    """

    __slots__ = ("_current", "_due", "_handle", "_interval", "_last", "_loop")

    def __init__(self, interval: float | None) -> None:
        self._interval = interval
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._handle: asyncio.TimerHandle | None = None
        self._current: asyncio.Future[None] | None = None
        self._due = False

    def active(self) -> None:
        """A batch was handed out: the quiet time starts again."""
        self._last = self._loop.time()

    def arm(self, future: asyncio.Future[None]) -> None:
        """Wake ``future`` (the wait in progress) when the quiet time is up."""
        if self._interval is None:
            return
        self._current = future
        if self._handle is None:
            self._handle = self._loop.call_at(self._last + self._interval, self._fire)

    def _fire(self) -> None:
        assert self._interval is not None
        now = self._loop.time()
        if now - self._last >= self._interval:
            self._due = True
            self._last = now
            future = self._current
            if future is not None and not future.done():
                future.set_result(None)
        self._handle = self._loop.call_at(self._last + self._interval, self._fire)

    def due(self) -> bool:
        """Whether the quiet time was up since the last call (then hand out an empty batch)."""
        due, self._due = self._due, False
        return due

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
