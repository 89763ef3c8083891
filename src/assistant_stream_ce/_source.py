"""Where an encoder's chunks come from: a run's buffer, or any async iterable pumped into one.

The serialization layer drives a `ChunkSource`: `take_nowait` (which starts the producer on first
use), its `buffer` (a `ChunkBuffer`, driven directly afterwards), `interrupt` and `aclose`. A
`RunStream` from `create_run` is one; `as_chunk_source` wraps any other async iterable of chunks
(a decoder's output, a generator) by copying it into a buffer from a task of its own, so deltas
merge and batches form exactly as for a run. This module sits below both `create_run` and the
encoders, so neither layer imports the other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable
from typing import Any, Protocol, runtime_checkable

from ._buffer import ChunkBuffer
from .assistant_stream_chunk import ErrorChunk
from .errors import error_message

__all__ = ["ChunkSource", "IterableSource", "as_chunk_source"]

logger = logging.getLogger("assistant_stream_ce")


@runtime_checkable
class ChunkSource(Protocol):
    """A producer of chunk batches (see the module docs)."""

    @property
    def buffer(self) -> ChunkBuffer: ...

    def take_nowait(self) -> list[Any] | None: ...

    def interrupt(self) -> None: ...

    async def aclose(self) -> None: ...


class IterableSource:
    """An async iterable of chunks copied into a `ChunkBuffer` by a task of its own.

    If the iterable raises, an error chunk with its message is added and the consumer then
    sees the exception (as for a run whose callback raised). `aclose` stops the copy and closes
    the iterable.
    """

    __slots__ = ("_buffer", "_closed", "_stream", "_task")

    def __init__(self, stream: AsyncIterable[Any], *, coalesce: bool = True) -> None:
        self._stream = stream
        self._buffer = ChunkBuffer(coalesce=coalesce)
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def buffer(self) -> ChunkBuffer:
        return self._buffer

    def take_nowait(self) -> list[Any] | None:
        """The chunks ready right now, or None (starts the copy on first use)."""
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._copy())
        return self._buffer.take_nowait()

    async def next_batch(self, timeout: float | None = None) -> list[Any] | None:
        """The next ready chunks (see `ChunkBuffer.next_batch`)."""
        batch = self.take_nowait()
        if batch is not None:
            return batch
        return await self._buffer.next_batch(timeout)

    def interrupt(self) -> None:
        self._buffer.interrupt()

    async def _copy(self) -> None:
        buffer = self._buffer
        stream = self._stream
        try:
            add = buffer.add
            async for chunk in stream:
                add(chunk)
                if not buffer.writable:
                    await buffer.wait_writable()  # backpressure from a slow client
        except asyncio.CancelledError:
            buffer.cancelled = True
            buffer.finish()
            raise
        except Exception as exc:
            buffer.push(ErrorChunk(error_message(exc)))
            buffer.finish(exc)
        else:
            buffer.finish()
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:
                    logger.debug("closing a chunk stream failed", exc_info=True)

    async def aclose(self) -> None:
        """Stop copying and close the iterable."""
        if self._closed:
            return
        self._closed = True
        task = self._task
        if task is None:
            self._buffer.finish()
            return
        if not task.done():
            task.cancel()
        await asyncio.wait([task])


def as_chunk_source(stream: AsyncIterable[Any], *, coalesce: bool = True) -> ChunkSource:
    """``stream`` itself when it is a `ChunkSource` (a run), else an `IterableSource`."""
    if hasattr(stream, "take_nowait") and hasattr(stream, "buffer"):  # a ChunkSource
        return stream  # type: ignore[return-value]
    return IterableSource(stream, coalesce=coalesce)
