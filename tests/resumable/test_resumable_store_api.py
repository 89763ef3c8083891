"""The store interface of 0.0.36 (acquire, append, finalize, read, status, delete), the way its
docs and tests use it, on the in-memory store and on a real Redis server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from assistant_stream_ce.resumable import ResumableStreamEntry, ResumableStreamError


async def drain(store: Any, stream_id: str, cursor: str = "") -> list[ResumableStreamEntry]:
    return [entry async for entry in store.read(stream_id, cursor, asyncio.Event())]


async def test_one_producer_per_stream_id(store: Any) -> None:
    assert await store.acquire("a") == "producer"
    assert await store.acquire("a") == "consumer"
    assert await store.acquire("a") == "consumer"
    assert await store.acquire("b") == "producer"


@pytest.mark.parametrize("bad", ["", "has space", "new\nline", "slash/", "x" * 257, "é"])
async def test_invalid_ids_are_refused_with_a_typed_error(store: Any, bad: str) -> None:
    with pytest.raises(ResumableStreamError) as caught:
        await store.acquire(bad)
    assert caught.value.code == "invalid-id"
    with pytest.raises(ResumableStreamError):
        await store.status(bad)


async def test_finished_stream_is_a_consumer_at_the_store_level(store: Any) -> None:
    assert await store.acquire("a") == "producer"
    await store.finalize("a", "done")
    assert await store.acquire("a") == "consumer"


async def test_replays_then_follows_live_until_the_end(store: Any) -> None:
    await store.acquire("a")
    await store.append("a", b"hello ")
    await store.append("a", b"world")
    seen: list[bytes] = []

    async def follow() -> None:
        async for entry in store.read("a", "", asyncio.Event()):
            seen.append(entry.chunk)
            if len(seen) == 2:
                await store.append("a", b"!")
            if len(seen) == 3:
                await store.finalize("a", "done")

    await asyncio.wait_for(follow(), 5)
    assert seen == [b"hello ", b"world", b"!"]


async def test_status_lifecycle(store: Any) -> None:
    assert await store.status("a") == "missing"
    await store.acquire("a")
    assert await store.status("a") == "streaming"
    assert await store.finalize("a", "done") is True
    assert await store.status("a") == "done"
    assert await store.finalize("a", "error", "late") is False
    assert await store.status("a") == "done"
    await store.acquire("b")
    await store.finalize("b", "error", "boom")
    assert await store.status("b") == "error"


async def test_error_end_raises_after_the_recorded_entries(store: Any) -> None:
    await store.acquire("a")
    await store.append("a", b"partial")
    await store.finalize("a", "error", "boom")
    seen: list[bytes] = []
    with pytest.raises(RuntimeError, match="boom") as caught:
        async for entry in store.read("a", "", asyncio.Event()):
            seen.append(entry.chunk)
    assert seen == [b"partial"]
    assert isinstance(caught.value, ResumableStreamError) and caught.value.code == "failed"


async def test_cursor_skips_what_was_seen(store: Any) -> None:
    await store.acquire("a")
    for part in (b"1", b"2", b"3"):
        await store.append("a", part)
    await store.finalize("a", "done")
    entries = await drain(store, "a")
    assert [e.chunk for e in entries] == [b"1", b"2", b"3"]
    assert [e.cursor for e in entries] == ["1", "2", "3"]
    assert [e.chunk for e in await drain(store, "a", entries[0].cursor)] == [b"2", b"3"]
    assert await drain(store, "a", entries[2].cursor) == []


async def test_bad_cursors_are_typed_errors(store: Any) -> None:
    await store.acquire("a")
    await store.append("a", b"1")
    for bad in ("x1", "-1", "1.0"):
        with pytest.raises(ResumableStreamError) as caught:
            await drain(store, "a", bad)
        assert caught.value.code == "invalid-id"
    with pytest.raises(ResumableStreamError, match="ahead"):
        await drain(store, "a", "5")


async def test_setting_the_signal_ends_a_read_without_an_error(store: Any) -> None:
    await store.acquire("a")
    signal = asyncio.Event()
    seen: list[bytes] = []

    async def follow() -> None:
        async for entry in store.read("a", "", signal):
            seen.append(entry.chunk)

    task = asyncio.create_task(follow())
    await store.append("a", b"x")
    for _ in range(200):
        if seen:
            break
        await asyncio.sleep(0.005)
    signal.set()
    await asyncio.wait_for(task, 2)  # promptly, although the stream never ended
    assert seen == [b"x"]


async def test_concurrent_readers_see_the_same_entries(store: Any) -> None:
    await store.acquire("a")
    first = asyncio.create_task(drain(store, "a"))
    second = asyncio.create_task(drain(store, "a"))
    await asyncio.sleep(0.01)
    await store.append("a", b"x")
    await store.append("a", b"y")
    await store.finalize("a", "done")
    assert [e.chunk for e in await asyncio.wait_for(first, 5)] == [b"x", b"y"]
    assert [e.chunk for e in await asyncio.wait_for(second, 5)] == [b"x", b"y"]


async def test_delete_forgets_the_stream(store: Any) -> None:
    await store.acquire("a")
    await store.append("a", b"x")
    reader = asyncio.create_task(drain(store, "a"))
    await asyncio.sleep(0.01)
    await store.delete("a")
    assert [e.chunk for e in await asyncio.wait_for(reader, 5)] == [b"x"]
    assert await store.status("a") == "missing"
    assert await store.acquire("a") == "producer"  # a deleted id may start again


async def test_appending_to_a_finished_or_missing_stream_fails(store: Any) -> None:
    with pytest.raises(ResumableStreamError, match="Stream not found") as missing:
        await store.append("a", b"x")
    assert missing.value.code == "missing"
    await store.acquire("a")
    await store.finalize("a", "done")
    with pytest.raises(ResumableStreamError, match="already finalized") as finalized:
        await store.append("a", b"late")
    assert finalized.value.code == "finalized"


async def test_reading_a_missing_stream_fails(store: Any) -> None:
    with pytest.raises(ResumableStreamError, match="Stream not found"):
        await drain(store, "nope")


async def test_binary_chunks_round_trip(store: Any) -> None:
    payload = bytes(range(256)) * 2
    await store.acquire("a")
    await store.append("a", payload[:300])
    await store.append("a", payload[300:])
    await store.finalize("a", "done")
    assert b"".join(e.chunk for e in await drain(store, "a")) == payload
