"""The types shared by the resumable-stream context and its stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "Acquisition",
    "CancellationSignal",
    "ProducerHandle",
    "ResumableStreamEntry",
    "ResumableStreamRole",
    "ResumableStreamStatus",
    "ResumableStreamStore",
]

#: What `ResumableStreamStore.acquire` made the caller: the one producer, or a consumer.
ResumableStreamRole = Literal["producer", "consumer"]
#: The state of a stream id in a store.
ResumableStreamStatus = Literal["streaming", "done", "error", "missing"]


@dataclass(frozen=True)
class ResumableStreamEntry:
    """One recorded piece of a stream and its cursor (pass the cursor to read what follows)."""

    cursor: str
    chunk: bytes


class CancellationSignal(Protocol):
    """Ends a `ResumableStreamStore.read` when set (an `asyncio.Event` is one)."""

    def is_set(self) -> bool: ...

    async def wait(self) -> Literal[True] | bool: ...


class ResumableStreamStore(Protocol):
    """Where resumable streams are recorded (the store interface of 0.0.36).

    One caller per stream id becomes the producer (``acquire``), appends chunks and finalizes;
    any number of readers replay from a cursor (``""`` = the start) and then follow live.
    """

    async def acquire(self, stream_id: str, *, ttl_ms: int | None = None) -> ResumableStreamRole:
        """Become the producer of a new stream id, or a consumer of an existing one."""
        ...

    async def append(self, stream_id: str, chunk: bytes) -> None:
        """Record one chunk at the end of a streaming stream."""
        ...

    async def finalize(
        self, stream_id: str, status: Literal["done", "error"], error: str | None = None
    ) -> object:
        """End the stream (``error`` carries the failure's message); later calls do nothing."""
        ...

    def read(
        self, stream_id: str, cursor: str, signal: CancellationSignal
    ) -> AsyncIterator[ResumableStreamEntry]:
        """Entries after ``cursor``, then live ones until the end (raises on an error end)."""
        ...

    async def status(self, stream_id: str) -> ResumableStreamStatus:
        """``streaming``, ``done``, ``error`` or ``missing``."""
        ...

    async def delete(self, stream_id: str) -> None:
        """Forget the stream (readers following it end)."""
        ...


@runtime_checkable
class ProducerHandle(Protocol):
    """A producer's hold on one stream (offered by this library's stores).

    ``stop_requested`` is set when a stop was requested for the stream (from any worker) or the
    producer lost its lease; ``lease_lost`` tells the two apart. ``batched`` says that
    `append_many` is a network round trip, worth batching behind.
    """

    stop_requested: asyncio.Event
    lease_lost: bool
    batched: bool

    async def append_many(self, chunks: list[bytes]) -> None:
        """Record chunks in order, atomically, if this producer still holds the stream."""
        ...

    async def finalize(self, status: Literal["done", "error"], error: str | None = None) -> bool:
        """End the stream if this producer still holds it; True if this call ended it."""
        ...

    async def close(self) -> None:
        """Stop renewing the lease and watching for stop requests."""
        ...


@dataclass(frozen=True)
class Acquisition:
    """What `acquire_producer` (this library's stores) found for a stream id.

    ``producer`` (with a handle) for a new stream, ``consumer`` for one still streaming,
    ``finished`` for one that already ended (its id may not start a new run).
    """

    role: Literal["producer", "consumer", "finished"]
    producer: ProducerHandle | None = None
