"""`create_resumable_stream_context` of 0.0.36 — run, resume, require_resume, status, delete and
the hooks — on the in-memory store and on a real Redis server, plus our extensions (owner
scoping, refusal of finished ids, cancellation)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from assistant_stream_ce.resumable import (
    ResumableStreamError,
    create_in_memory_resumable_stream_store,
    create_resumable_stream_context,
    scoped_stream_id,
)


def parts(*items: str, pause: float = 0.0) -> AsyncIterator[bytes]:
    async def generate() -> AsyncIterator[bytes]:
        for item in items:
            yield item.encode()
            await asyncio.sleep(pause)

    return generate()


async def text(stream: AsyncIterator[bytes]) -> str:
    return b"".join([chunk async for chunk in stream]).decode()


async def settled(context: Any, stream_id: str, **kwargs: Any) -> str:
    for _ in range(500):
        status = await context.status(stream_id, **kwargs)
        if status != "streaming":
            return str(status)
        await asyncio.sleep(0.01)
    raise AssertionError("the stream did not end")


async def test_the_producer_reads_the_whole_stream(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    stream = await context.run("a", lambda: parts("hello ", "world"))
    assert await asyncio.wait_for(text(stream), 5) == "hello world"
    assert await settled(context, "a") == "done"


async def test_a_second_caller_joins_and_reads_identical_bytes(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    calls: list[str] = []

    def make(name: str) -> AsyncIterator[bytes]:
        calls.append(name)
        return parts("one ", "two ", "three", pause=0.02)

    first = await context.run("a", lambda: make("first"))
    second = await context.run("a", lambda: make("second"))
    a, b = await asyncio.wait_for(asyncio.gather(text(first), text(second)), 5)
    assert a == b == "one two three"
    assert calls == ["first"]


async def test_resume_replays_a_finished_stream(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    assert await text(await context.run("a", lambda: parts("alpha", "beta"))) == "alphabeta"
    replay = await context.resume("a")
    assert replay is not None
    assert await text(replay) == "alphabeta"
    assert await text(await context.require_resume("a")) == "alphabeta"


async def test_resume_of_a_missing_stream(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    assert await context.resume("nope") is None
    with pytest.raises(ResumableStreamError) as caught:
        await context.require_resume("nope")
    assert caught.value.code == "missing"


async def test_status_and_delete(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    assert await context.status("a") == "missing"
    await text(await context.run("a", lambda: parts("x")))
    assert await settled(context, "a") == "done"
    await context.delete("a")
    assert await context.status("a") == "missing"


async def test_the_producer_keeps_going_after_its_reader_leaves(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    stream = await context.run("a", lambda: parts(*[f"c{i};" for i in range(5)], pause=0.01))
    assert await anext(stream) == b"c0;"
    await stream.aclose()  # type: ignore[attr-defined]
    assert await settled(context, "a") == "done"
    replay = await context.resume("a")
    assert replay is not None
    assert await text(replay) == "c0;c1;c2;c3;c4;"


async def test_producer_errors_reach_readers(store: Any) -> None:
    context = create_resumable_stream_context(store=store)

    async def failing() -> AsyncIterator[bytes]:
        yield b"partial;"
        raise ValueError("oops")

    stream = await context.run("a", failing)
    with pytest.raises(RuntimeError, match="oops"):
        await asyncio.wait_for(text(stream), 5)
    assert await context.status("a") == "error"


async def test_hooks_fire_and_a_raising_hook_changes_nothing(store: Any) -> None:
    tasks: list[asyncio.Task[None]] = []
    acquired: list[tuple[str, str]] = []
    appended: list[tuple[str, int]] = []
    finalized: list[tuple[str, str, str | None]] = []

    def raising(*_args: object) -> None:
        raise RuntimeError("hook failure")

    context = create_resumable_stream_context(
        store=store,
        wait_until=tasks.append,
        on_acquire=lambda i, role: acquired.append((i, role)),
        on_append=lambda i, size: appended.append((i, size)),
        on_finalize=lambda i, status, error: finalized.append((i, status, error)),
        on_error=raising,
    )
    producer = await context.run("a", lambda: parts("ab", "cde", pause=0.02))
    consumer = await context.run("a", lambda: parts("unused"))
    assert await asyncio.wait_for(text(producer), 5) == "abcde"
    assert await text(consumer) == "abcde"
    assert len(tasks) == 1
    await asyncio.wait_for(tasks[0], 5)
    assert acquired == [("a", "producer"), ("a", "consumer")]
    assert appended == [("a", 2), ("a", 3)]
    assert finalized == [("a", "done", None)]

    async def failing() -> AsyncIterator[bytes]:
        raise ValueError("boom")
        yield b""  # pragma: no cover

    failed = await context.run("b", failing)
    with pytest.raises(RuntimeError, match="boom"):
        await text(failed)
    await asyncio.wait_for(tasks[1], 5)
    assert finalized[-1] == ("b", "error", "boom")
    assert await context.status("b") == "error"


async def test_on_error_receives_the_exception(store: Any) -> None:
    errors: list[tuple[str, object]] = []
    context = create_resumable_stream_context(
        store=store, on_error=lambda i, error: errors.append((i, error))
    )

    async def failing() -> AsyncIterator[bytes]:
        raise KeyError("k")
        yield b""  # pragma: no cover

    with pytest.raises(RuntimeError):
        await text(await context.run("a", failing))
    assert len(errors) == 1 and errors[0][0] == "a" and isinstance(errors[0][1], KeyError)


# -- extensions --------------------------------------------------------------------------


async def test_a_finished_id_cannot_start_a_new_run(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    assert await text(await context.run("a", lambda: parts("first"))) == "first"
    await settled(context, "a")
    with pytest.raises(ResumableStreamError) as caught:
        await context.run("a", lambda: parts("second"))
    assert caught.value.code == "exists"
    replay = await context.resume("a")
    assert replay is not None and await text(replay) == "first"  # the old stream is intact
    await context.delete("a")
    assert await text(await context.run("a", lambda: parts("second"))) == "second"


async def test_owners_have_separate_streams_under_one_id(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    alice = await context.run("chat-1", lambda: parts("for alice"), owner="user:alice")
    assert await text(alice) == "for alice"
    await settled(context, "chat-1", owner="user:alice")
    # Same id, other owner: nothing to read, and a run of its own.
    assert await context.resume("chat-1", owner="user:bob") is None
    assert await context.resume("chat-1") is None
    assert await context.status("chat-1", owner="user:bob") == "missing"
    bob = await context.run("chat-1", lambda: parts("for bob"), owner="user:bob")
    assert await text(bob) == "for bob"
    mine = await context.resume("chat-1", owner="user:alice")
    assert mine is not None and await text(mine) == "for alice"


def test_scoped_ids_hide_the_owner_and_cannot_be_forged() -> None:
    scoped = scoped_stream_id("chat-1", "alice@example.com")
    assert "alice" not in scoped and scoped.endswith(":chat-1")
    assert scoped_stream_id("chat-1", "alice@example.com") == scoped
    assert scoped_stream_id("chat-1", "bob@example.com") != scoped
    with pytest.raises(ResumableStreamError) as caught:
        scoped_stream_id(scoped, None)  # naming the scoped id directly is refused
    assert caught.value.code == "invalid-id"
    with pytest.raises(ValueError):
        scoped_stream_id("chat-1", "")
    with pytest.raises(ResumableStreamError):
        scoped_stream_id("x" * 230, "alice")


async def test_cancel_stops_the_run_and_records_its_end(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    produced: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for i in range(10_000):
            produced.append(i)
            yield f"{i};".encode()
            await asyncio.sleep(0.005)

    stream = await context.run("a", endless)
    assert await anext(stream) == b"0;"
    assert await context.cancel("a") is True
    rest = await asyncio.wait_for(text(stream), 5)  # ends normally
    assert rest.count(";") < 1000 and len(produced) < 1000
    assert await settled(context, "a") == "done"
    count = len(produced)
    await asyncio.sleep(0.05)
    assert len(produced) == count  # nothing runs any more
    assert await context.cancel("a") is False  # not streaming any more
    assert await context.cancel("missing") is False


async def test_resume_from_a_cursor(store: Any) -> None:
    context = create_resumable_stream_context(store=store)
    await text(await context.run("a", lambda: parts("1", "2", "3")))
    entries = [e async for e in context.read_entries("a")]
    assert [e.chunk for e in entries] == [b"1", b"2", b"3"]
    tail = await context.resume("a", cursor=entries[0].cursor)
    assert tail is not None and await text(tail) == "23"


# -- the in-memory store's own options (0.0.36) --------------------------------------------


async def test_expiry_uses_the_injected_clock_and_appends_refresh_it() -> None:
    now = [1_000.0]
    store = create_in_memory_resumable_stream_store(default_ttl_ms=100, now=lambda: now[0])
    await store.acquire("a")
    now[0] += 80
    await store.append("a", b"x")
    now[0] += 80
    assert await store.status("a") == "streaming"
    now[0] += 101
    assert await store.status("a") == "missing"
    assert await store.acquire("a") == "producer"


async def test_a_stale_producer_cannot_write_into_a_reacquired_stream() -> None:
    now = [1_000.0]
    release = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    errors: list[object] = []
    store = create_in_memory_resumable_stream_store(default_ttl_ms=100, now=lambda: now[0])
    context = create_resumable_stream_context(
        store=store, wait_until=tasks.append, on_error=lambda _i, e: errors.append(e)
    )

    async def stale() -> AsyncIterator[bytes]:
        yield b"old"
        await release.wait()
        yield b"late"

    reader = await context.run("a", stale)
    assert await anext(reader) == b"old"
    await reader.aclose()  # type: ignore[attr-defined]
    now[0] += 101
    fresh = await context.run("a", lambda: parts("new"))
    release.set()
    await asyncio.wait_for(tasks[0], 5)
    assert await text(fresh) == "new"
    assert len(errors) == 1 and isinstance(errors[0], ResumableStreamError)
    assert errors[0].code == "missing"


async def test_in_memory_limits() -> None:
    store = create_in_memory_resumable_stream_store(
        max_chunk_bytes=4, max_entries_per_stream=2, max_streams=2
    )
    await store.acquire("a")
    with pytest.raises(ResumableStreamError, match="Chunk exceeds maxChunkBytes: 5"):
        await store.append("a", b"hello")
    await store.append("a", b"1")
    await store.append("a", b"2")
    with pytest.raises(ResumableStreamError, match="Stream exceeded maxEntriesPerStream: a"):
        await store.append("a", b"3")
    await store.acquire("b")
    with pytest.raises(ResumableStreamError, match="maxStreams exceeded"):
        await store.acquire("c")
    assert await store.acquire("a") == "consumer"
    with pytest.raises(ValueError):
        create_in_memory_resumable_stream_store(max_streams=0)


async def test_the_sweeper_evicts_expired_streams() -> None:
    now = [1_000.0]
    store = create_in_memory_resumable_stream_store(
        default_ttl_ms=100, gc_interval_ms=10, now=lambda: now[0]
    )
    try:
        await store.acquire("a")
        now[0] += 200
        for _ in range(200):
            await asyncio.sleep(0.01)
            if "a" not in store._streams:
                break
        assert "a" not in store._streams
    finally:
        store.dispose()
