"""What every store derives from its ``read_frames``: entries one by one, and in batches."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from ..types import CancellationSignal, ResumableStreamEntry

__all__ = ["FrameReads"]


class FrameReads:
    """`read` and `read_batches` built on the store's own ``read_frames(stream_id, cursor,
    signal, idle=)``, which yields ``(number of the first frame, frames)`` as they arrive."""

    def read_frames(
        self, stream_id: str, cursor: str, signal: CancellationSignal, *, idle: float | None = None
    ) -> AsyncGenerator[tuple[int, list[bytes]], None]:
        raise NotImplementedError

    async def read(
        self, stream_id: str, cursor: str, signal: CancellationSignal
    ) -> AsyncIterator[ResumableStreamEntry]:
        """Entries after ``cursor``, then live ones until the stream ends (raises the store's
        `ResumableStreamError`: ``failed`` after an error end, ``missing``, ``trimmed``…)."""
        frames = self.read_frames(stream_id, cursor, signal)
        try:
            async for first, chunks in frames:
                for number, chunk in enumerate(chunks, first):
                    if signal.is_set():
                        return
                    yield ResumableStreamEntry(str(number), chunk)
        finally:
            await frames.aclose()

    async def read_batches(
        self, stream_id: str, cursor: str, signal: CancellationSignal, *, idle: float | None = None
    ) -> AsyncGenerator[list[ResumableStreamEntry], None]:
        """Like `read`, a list of the entries available at once at a time; an empty list after
        every ``idle`` seconds without entries (``None``: never empty)."""
        frames = self.read_frames(stream_id, cursor, signal, idle=idle)
        try:
            async for first, chunks in frames:
                yield [
                    ResumableStreamEntry(str(number), chunk)
                    for number, chunk in enumerate(chunks, first)
                ]
        finally:
            await frames.aclose()
