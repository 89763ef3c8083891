"""A client that stops reading bounds the memory of a run (issue 14): producers that can wait
wait at the high-water mark, a tight loop past the hard cap fails the run with a clear error,
and nothing is lost when the client reads again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from assistant_stream_ce import RunController, TextDeltaChunk, create_run
from assistant_stream_ce._buffer import BATCH_CHARS
from assistant_stream_ce.errors import BufferOverflowError

PIECE = "x" * 10_000
HIGH_WATER = 50_000


async def test_a_sub_stream_waits_for_a_slow_client_and_loses_nothing() -> None:
    produced = 0

    async def upstream() -> AsyncIterator[Any]:
        nonlocal produced
        for _ in range(1_000):  # 10 MB if nothing held it back
            produced += 1
            yield TextDeltaChunk(PIECE)

    async def run(controller: RunController) -> None:
        controller.add_stream(upstream())

    stream = create_run(run, high_water=HIGH_WATER, max_buffered=4 * HIGH_WATER)
    first = await stream.__anext__()
    for _ in range(50):  # the client stops reading: give the producer every chance to run
        await asyncio.sleep(0)
    buffer = stream.buffer
    assert buffer._weight <= HIGH_WATER + len(PIECE)  # bounded by the mark, not by the upstream
    assert produced < 20
    received = len(first.text_delta)
    async for chunk in stream:  # the client reads again: everything arrives
        received += len(chunk.text_delta)
    assert received == 1_000 * len(PIECE) and produced == 1_000


async def test_drain_holds_a_producer_that_can_wait() -> None:
    appended = 0

    async def run(controller: RunController) -> None:
        nonlocal appended
        for _ in range(1_000):
            controller.append_text(PIECE)
            appended += 1
            await controller.drain()

    stream = create_run(run, high_water=HIGH_WATER, max_buffered=4 * HIGH_WATER)
    await stream.__anext__()
    for _ in range(50):
        await asyncio.sleep(0)
    # the consumer took one batch before it stopped reading; then the high-water mark holds
    assert appended <= (BATCH_CHARS + HIGH_WATER) // len(PIECE) + 2
    rest = [chunk async for chunk in stream]
    assert appended == 1_000 and sum(len(c.text_delta) for c in rest) > 0


async def test_a_tight_loop_past_the_hard_cap_fails_the_run_clearly() -> None:
    async def run(controller: RunController) -> None:
        for _ in range(1_000):
            controller.append_text(PIECE)  # never awaits: cannot be slowed down

    stream = create_run(run, high_water=HIGH_WATER, max_buffered=4 * HIGH_WATER)
    chunks: list[Any] = []
    with pytest.raises(BufferOverflowError, match="reading too slowly"):
        async for chunk in stream:
            chunks.append(chunk)
    assert chunks[-1].type == "error" and "reading too slowly" in chunks[-1].error
    text = sum(len(c.text_delta) for c in chunks if c.type == "text-delta")
    assert 0 < text <= 4 * HIGH_WATER + len(PIECE)


def test_limits_are_validated() -> None:
    async def run(controller: RunController) -> None:
        return None

    with pytest.raises(ValueError, match="high_water"):
        create_run(run, high_water=0)
    with pytest.raises(ValueError, match="high_water"):
        create_run(run, high_water=10, max_buffered=5)
