"""What only the Redis store does, against a real redis-server: leases (a dead producer's
stream ends with an error), stop requests between workers, blocking tails that outlive the
client's socket timeout, batched appends, ids, trimming and expiry."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from _resumable_redis import RedisServer

from assistant_stream_ce.resumable import (
    ResumableStreamError,
    create_redis_resumable_stream_store,
    create_resumable_stream_context,
)
from assistant_stream_ce.resumable.stores.redis import PRODUCER_LOST


async def entries(store: Any, stream_id: str, cursor: str = "") -> list[Any]:
    return [e async for e in store.read(stream_id, cursor, asyncio.Event())]


async def test_a_dead_producers_stream_ends_with_an_error(
    redis_client: Any, key_prefix: str
) -> None:
    store = create_redis_resumable_stream_store(
        redis_client, key_prefix=key_prefix, lease_ms=300, block_ms=100
    )
    acquired = await store.acquire_producer("a")
    assert acquired.role == "producer" and acquired.producer is not None
    await acquired.producer.append_many([b"one", b"two"])
    await asyncio.sleep(0.5)  # renewed meanwhile: still alive
    assert await store.status("a") == "streaming"
    await acquired.producer.close()  # stops renewing without finishing: as if the process died
    started = time.monotonic()
    seen: list[bytes] = []
    with pytest.raises(ResumableStreamError, match=PRODUCER_LOST) as caught:
        async for entry in store.read("a", "", asyncio.Event()):
            seen.append(entry.chunk)
    assert caught.value.code == "failed"
    assert seen == [b"one", b"two"]
    assert time.monotonic() - started < 1.5
    assert await store.status("a") == "error"
    # The stale producer cannot write any more.
    with pytest.raises(ResumableStreamError):
        await acquired.producer.append_many([b"late"])
    await store.aclose()


async def test_status_notices_a_dead_producer(redis_client: Any, key_prefix: str) -> None:
    store = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix, lease_ms=200)
    acquired = await store.acquire_producer("a")
    assert acquired.producer is not None
    await acquired.producer.close()
    await asyncio.sleep(0.3)
    assert await store.status("a") == "error"
    await store.aclose()


async def test_a_stop_on_one_worker_cancels_the_run_on_another(
    redis_server: RedisServer, key_prefix: str
) -> None:
    import redis.asyncio as redis

    client_a, client_b = redis.from_url(redis_server.url), redis.from_url(redis_server.url)
    store_a = create_redis_resumable_stream_store(client_a, key_prefix=key_prefix)
    store_b = create_redis_resumable_stream_store(client_b, key_prefix=key_prefix)
    worker_a = create_resumable_stream_context(store=store_a)
    worker_b = create_resumable_stream_context(store=store_b)
    stopped_at: list[float] = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            for i in range(100_000):
                yield f"{i};".encode()
                await asyncio.sleep(0.01)
        except BaseException:
            stopped_at.append(time.monotonic())
            raise

    try:
        stream = await worker_a.run("a", endless)
        assert await anext(stream) == b"0;"
        sent = time.monotonic()
        assert await worker_b.cancel("a") is True
        for _ in range(100):
            if stopped_at:
                break
            await asyncio.sleep(0.005)
        assert stopped_at and stopped_at[0] - sent < 0.2
        rest = b"".join([c async for c in stream])
        assert rest.count(b";") < 50  # the stream ended soon after the stop, without an error
        assert await worker_b.status("a") == "done"
    finally:
        await store_a.aclose()
        await store_b.aclose()
        await client_a.aclose()
        await client_b.aclose()


async def test_a_stop_requested_before_the_listener_saw_it_is_still_honoured(
    redis_client: Any, key_prefix: str
) -> None:
    store = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix, lease_ms=300)
    acquired = await store.acquire_producer("a")
    assert acquired.producer is not None
    # Simulate a missed announcement: only the flag is set.
    await redis_client.set(f"{key_prefix}:{{a}}:stop", b"1")
    await asyncio.wait_for(acquired.producer.stop_requested.wait(), 1)  # via the lease renewal
    await acquired.producer.close()
    await store.aclose()


async def test_an_idle_gap_longer_than_the_socket_timeout_does_not_end_a_tail(
    redis_server: RedisServer, key_prefix: str
) -> None:
    import redis.asyncio as redis

    client = redis.from_url(redis_server.url, socket_timeout=1.0)
    store = create_redis_resumable_stream_store(client, key_prefix=key_prefix)
    assert store.block_ms <= 500  # each XREAD BLOCK ends well before the socket times out
    context = create_resumable_stream_context(store=store)

    async def slow() -> AsyncIterator[bytes]:
        yield b"before"
        await asyncio.sleep(2.2)
        yield b"after"

    try:
        stream = await context.run("a", slow)
        assert [c async for c in stream] == [b"before", b"after"]
        assert await context.status("a") == "done"
    finally:
        await store.aclose()
        await client.aclose()


async def test_an_idle_gap_longer_than_redis_py_s_default_socket_timeout_does_not_end_a_tail(
    redis_server: RedisServer, key_prefix: str
) -> None:
    import redis.asyncio as redis

    client = redis.from_url(redis_server.url)  # redis-py's defaults: 5 s socket timeout
    store = create_redis_resumable_stream_store(client, key_prefix=key_prefix)
    context = create_resumable_stream_context(store=store)

    async def slow() -> AsyncIterator[bytes]:
        yield b"before"
        await asyncio.sleep(5.5)
        yield b"after"

    try:
        stream = await context.run("a", slow)
        assert [c async for c in stream] == [b"before", b"after"]
    finally:
        await store.aclose()
        await client.aclose()


def test_the_block_stays_below_the_clients_socket_timeout() -> None:
    import redis.asyncio as redis

    default = redis.Redis(port=1)  # never connects
    assert create_redis_resumable_stream_store(default).block_ms == 1000
    short = redis.Redis(port=1, socket_timeout=0.2)
    assert create_redis_resumable_stream_store(short).block_ms == 100
    from_url = redis.from_url("redis://127.0.0.1:1/0")  # the pool names no timeout: 5 s
    assert create_redis_resumable_stream_store(from_url, block_ms=9000).block_ms == 2500
    no_timeout = redis.Redis(port=1, socket_timeout=None)
    assert create_redis_resumable_stream_store(no_timeout, block_ms=9000).block_ms == 9000
    with pytest.raises(ValueError, match="decode_responses"):
        create_redis_resumable_stream_store(redis.Redis(port=1, decode_responses=True))

    class OldAdapter:
        async def set_nx(self, key: str, value: str, ttl_sec: int) -> bool:
            return True

    with pytest.raises(TypeError, match=r"redis\.asyncio\.Redis"):
        create_redis_resumable_stream_store(OldAdapter())


async def test_a_thousand_events_in_a_tight_loop_keep_unique_increasing_ids(
    redis_client: Any, key_prefix: str
) -> None:
    store = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix)
    context = create_resumable_stream_context(store=store)

    async def burst() -> AsyncIterator[bytes]:
        for i in range(1000):
            yield f"e{i}".encode()  # no await between events

    def script_calls(stats: dict[str, Any]) -> int:
        return sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_eval"))

    before = script_calls(await redis_client.info("commandstats"))
    reader = context.read_entries
    await context.start("a", burst)
    got = [e async for e in reader("a")]
    after = script_calls(await redis_client.info("commandstats"))
    assert [e.cursor for e in got] == [str(i) for i in range(1, 1001)]
    assert [e.chunk for e in got] == [f"e{i}".encode() for i in range(1000)]
    assert after - before < 100  # appended in batches, not one round trip per event
    await store.aclose()


async def test_trimming_keeps_the_last_entries_and_says_when_a_cursor_is_too_old(
    redis_client: Any, key_prefix: str
) -> None:
    store = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix, maxlen=5)
    await store.acquire("a")
    for i in range(1, 11):
        await store.append("a", f"{i}".encode())
    await store.finalize("a", "done")
    assert [e.chunk for e in await entries(store, "a", "5")] == [b"6", b"7", b"8", b"9", b"10"]
    for too_old in ("", "4"):
        with pytest.raises(ResumableStreamError) as caught:
            await entries(store, "a", too_old)
        assert caught.value.code == "trimmed"
    assert await redis_client.xlen(f"{key_prefix}:{{a}}:data") <= 6


async def test_streams_expire_after_their_ttl(redis_client: Any, key_prefix: str) -> None:
    store = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix)
    context = create_resumable_stream_context(store=store, ttl_ms=300)

    async def one() -> AsyncIterator[bytes]:
        yield b"x"

    assert [c async for c in await context.run("a", one)] == [b"x"]
    ttl = await redis_client.pttl(f"{key_prefix}:{{a}}:data")
    assert 0 < ttl <= 300
    await asyncio.sleep(0.45)
    assert await context.status("a") == "missing"
    assert await redis_client.keys(f"{key_prefix}:*") == []
    await store.aclose()


async def test_owner_scoped_keys_do_not_contain_the_owner(
    redis_client: Any, key_prefix: str
) -> None:
    store = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix)
    context = create_resumable_stream_context(store=store)

    async def one() -> AsyncIterator[bytes]:
        yield b"x"

    await context.start("chat", one, owner="alice@example.com")
    keys = [k.decode() for k in await redis_client.keys(f"{key_prefix}:*")]
    assert keys and all("alice" not in k for k in keys)
    assert await context.status("chat", owner="alice@example.com") != "missing"
    assert await context.status("chat", owner="mallory@example.com") == "missing"
    await store.aclose()


def test_the_package_imports_without_redis() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import assistant_stream_ce.resumable as r\n"
        "r.create_in_memory_resumable_stream_store()\n"
        "try:\n"
        "    r.create_redis_resumable_stream_store(object())\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "assistant-stream-ce[redis]" in result.stdout


async def test_losing_redis_mid_stream_ends_the_body_with_an_error_frame(
    redis_server: RedisServer, tmp_path: Any
) -> None:
    import redis.asyncio as redis

    from assistant_stream_ce.resumable import create_resume_assistant_stream_response
    from assistant_stream_ce.serialization import AssistantTransportEncoder

    own = RedisServer(redis_server.binary, tmp_path).start()
    client = redis.from_url(own.url)
    store = create_redis_resumable_stream_store(client)
    context = create_resumable_stream_context(store=store)
    try:
        await store.acquire("a")
        await store.append("a", b'data: {"type":"text"}\n\n')
        response = await create_resume_assistant_stream_response(
            context=context, stream_id="a", encoder=AssistantTransportEncoder()
        )
        body = response.body_iterator  # type: ignore[attr-defined]
        assert await anext(body) == b'data: {"type":"text"}\n\n'
        own.stop()
        rest = b"".join([part async for part in body])
        assert b'"type":"error"' in rest and rest.endswith(b"data: [DONE]\n\n")
        assert own.url.encode() not in rest
    finally:
        own.stop()
        await client.aclose()


def _blocked_xreads(clients: list[dict[str, Any]]) -> int:
    return sum(1 for c in clients if c.get("cmd") == "xread" and "b" in str(c.get("flags", "")))


@pytest.fixture
async def two_workers(redis_server: RedisServer, key_prefix: str) -> AsyncIterator[Any]:
    """Two workers' stores on one Redis server, each with its own client: (the producing
    worker's client, its store, the reading worker's store)."""
    import redis.asyncio as redis

    producer_client, reader_client = (
        redis.from_url(redis_server.url),
        redis.from_url(redis_server.url),
    )
    producing = create_redis_resumable_stream_store(producer_client, key_prefix=key_prefix)
    reading = create_redis_resumable_stream_store(reader_client, key_prefix=key_prefix)
    yield producer_client, producing, reading
    await producing.aclose()
    await reading.aclose()
    await producer_client.aclose()
    await reader_client.aclose()


async def test_readers_on_another_worker_share_one_blocking_xread(two_workers: Any) -> None:
    producer_client, producing, reading = two_workers
    worker_a = create_resumable_stream_context(store=producing)
    worker_b = create_resumable_stream_context(store=reading)
    go = asyncio.Event()

    def paced(name: str) -> Any:
        async def stream() -> AsyncIterator[bytes]:
            yield f"{name}:first".encode()
            await go.wait()
            for i in range(20):
                yield f"{name}:{i}".encode()
                await asyncio.sleep(0.001)

        return stream

    names = [f"s{n}" for n in range(20)]
    for name in names:
        await worker_a.start(name, paced(name))

    received: dict[str, list[Any]] = {name: [] for name in names}
    caught_up = {name: asyncio.Event() for name in names}

    async def read(name: str) -> list[Any]:
        async for entry in worker_b.read_entries(name):
            received[name].append(entry)
            caught_up[name].set()
        return received[name]

    readers = [asyncio.ensure_future(read(name)) for name in names]
    # every reader caught up and waits for the rest
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in caught_up.values())), 10)
    # Sample the server's view for a while: the shared call is re-issued after each block
    # (and when a reader joins), so a single sample may fall between two calls.
    samples = []
    for _ in range(30):
        samples.append(_blocked_xreads(await producer_client.client_list()))
        await asyncio.sleep(0.02)
    assert max(samples) == 1, samples  # one XREAD BLOCK for the 20 readers, not one each
    go.set()
    results = await asyncio.wait_for(asyncio.gather(*readers), 10)
    for name, got in zip(names, results, strict=True):
        assert [e.cursor for e in got] == [str(i) for i in range(1, 22)]
        assert [e.chunk for e in got] == [f"{name}:first".encode()] + [
            f"{name}:{i}".encode() for i in range(20)
        ]


async def test_followers_of_one_stream_from_different_cursors_each_get_exactly_theirs(
    two_workers: Any,
) -> None:
    _, producing, reading = two_workers
    worker_a = create_resumable_stream_context(store=producing)
    worker_b = create_resumable_stream_context(store=reading)

    async def steady() -> AsyncIterator[bytes]:
        for i in range(1, 201):
            yield f"{i}".encode()
            if i % 10 == 0:
                await asyncio.sleep(0.005)

    async def read(cursor: str, delay: float) -> list[Any]:
        await asyncio.sleep(delay)
        return [e async for e in worker_b.read_entries("a", cursor=cursor)]

    await worker_a.start("a", steady)
    await asyncio.sleep(0.02)
    plans = [("", 0.0), ("5", 0.01), ("1", 0.03), ("40", 0.02), ("", 0.05)]
    results = await asyncio.wait_for(
        asyncio.gather(*(read(cursor, delay) for cursor, delay in plans)), 10
    )
    for (cursor, _), got in zip(plans, results, strict=True):
        start = int(cursor or 0) + 1
        assert [e.cursor for e in got] == [str(i) for i in range(start, 201)]
        assert [e.chunk for e in got] == [str(i).encode() for i in range(start, 201)]


async def test_a_dead_producer_is_noticed_while_the_shared_xread_is_busy_with_other_streams(
    redis_server: RedisServer, key_prefix: str
) -> None:
    import redis.asyncio as redis

    reader_client = redis.from_url(redis_server.url)
    producing = create_redis_resumable_stream_store(
        redis_server_client := redis.from_url(redis_server.url),
        key_prefix=key_prefix,
        lease_ms=300,
        block_ms=100,
    )
    reading = create_redis_resumable_stream_store(
        reader_client, key_prefix=key_prefix, lease_ms=300, block_ms=100
    )
    worker_a = create_resumable_stream_context(store=producing)
    worker_b = create_resumable_stream_context(store=reading)

    async def busy() -> AsyncIterator[bytes]:
        for i in range(800):  # about 4 s of entries, longer than the dead stream may take
            yield f"{i}".encode()
            await asyncio.sleep(0.005)

    try:
        await worker_a.start("busy", busy)
        dead = await producing.acquire_producer("dead")
        assert dead.producer is not None
        await dead.producer.append_many([b"only"])
        busy_reader = asyncio.ensure_future(
            asyncio.wait_for(_collect(worker_b.read_entries("busy")), 20)
        )
        await asyncio.sleep(0.1)
        await dead.producer.close()  # stops renewing: as if its process died
        started = time.monotonic()
        seen: list[bytes] = []
        with pytest.raises(ResumableStreamError, match=PRODUCER_LOST):
            async for entry in worker_b.read_entries("dead"):
                seen.append(entry.chunk)
        assert seen == [b"only"]
        # Noticed within a few leases, while the busy stream is still going: not held up by
        # its entries (the bound leaves room for a loaded machine).
        assert time.monotonic() - started < 3
        assert not busy_reader.done()
        assert [e.cursor for e in await busy_reader] == [str(i) for i in range(1, 801)]
    finally:
        await producing.aclose()
        await reading.aclose()
        await redis_server_client.aclose()
        await reader_client.aclose()


async def _collect(reader: AsyncIterator[Any]) -> list[Any]:
    return [e async for e in reader]


async def test_a_reader_in_the_producers_process_reads_nothing_back_from_redis(
    redis_client: Any, key_prefix: str
) -> None:
    store = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix)
    context = create_resumable_stream_context(store=store)

    async def paced() -> AsyncIterator[bytes]:
        for i in range(300):
            yield f"e{i}".encode()
            if i % 3 == 0:
                await asyncio.sleep(0.001)

    def xreads(stats: dict[str, Any]) -> int:
        return int(stats.get("cmdstat_xread", {}).get("calls", 0))

    before = xreads(await redis_client.info("commandstats"))
    got = [e async for e in await context.run("a", paced)]
    after = xreads(await redis_client.info("commandstats"))
    assert [e for e in got] == [f"e{i}".encode() for i in range(300)]
    assert after - before == 0  # entries and the end came from the producer, not read back
    replay = [e async for e in context.read_entries("a", cursor="250")]
    assert [e.cursor for e in replay] == [str(i) for i in range(251, 301)]
    await store.aclose()


async def test_a_local_reader_ends_when_its_stream_is_deleted_on_another_worker(
    redis_server: RedisServer, key_prefix: str
) -> None:
    import redis.asyncio as redis

    client_a, client_b = redis.from_url(redis_server.url), redis.from_url(redis_server.url)
    store_a = create_redis_resumable_stream_store(
        client_a, key_prefix=key_prefix, lease_ms=300, block_ms=100
    )
    store_b = create_redis_resumable_stream_store(client_b, key_prefix=key_prefix)
    worker_a = create_resumable_stream_context(store=store_a)

    async def idle() -> AsyncIterator[bytes]:
        yield b"one"
        await asyncio.sleep(30)
        yield b"never"

    try:
        stream = await worker_a.run("a", idle)
        assert await anext(stream) == b"one"
        await store_b.delete("a")
        started = time.monotonic()
        rest = await asyncio.wait_for(_collect(stream), 5)
        assert rest == []
        assert time.monotonic() - started < 1.5
    finally:
        await store_a.aclose()
        await store_b.aclose()
        await client_a.aclose()
        await client_b.aclose()


async def test_appends_of_many_producers_in_one_call_fail_only_for_the_one_that_lost_its_lease(
    redis_client: Any, key_prefix: str
) -> None:
    store = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix)
    handles = []
    for name in ("a", "b", "c"):
        acquired = await store.acquire_producer(name)
        assert acquired.producer is not None
        handles.append(acquired.producer)
    await redis_client.delete(f"{key_prefix}:{{b}}:lease")  # b's lease is gone
    results = await asyncio.gather(
        *(h.append_many([f"{i}-1".encode(), f"{i}-2".encode()]) for i, h in enumerate(handles)),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], ResumableStreamError) and results[1].code == "lease-lost"
    for name, index in (("a", 0), ("c", 2)):
        # One entry for the round trip, numbered by its last chunk, the chunks and lengths.
        data = await redis_client.xrange(f"{key_prefix}:{{{name}}}:data")
        assert data == [(b"0-2", {b"c": f"{index}-1{index}-2".encode(), b"l": b"3,3"})]
    assert await redis_client.xlen(f"{key_prefix}:{{b}}:data") == 0
    for handle in handles:
        await handle.close()
    await store.aclose()


async def test_closing_the_store_ends_its_followers_with_an_error(
    redis_client: Any, key_prefix: str
) -> None:
    producing = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix)
    reading = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix)
    acquired = await producing.acquire_producer("a")
    assert acquired.producer is not None
    await acquired.producer.append_many([b"one"])
    seen: list[bytes] = []
    caught_up = asyncio.Event()

    async def follow() -> None:
        async for entry in reading.read("a", "", asyncio.Event()):
            seen.append(entry.chunk)
            caught_up.set()

    reader = asyncio.ensure_future(follow())
    await asyncio.wait_for(caught_up.wait(), 5)  # caught up, then waiting on the shared XREAD
    await asyncio.sleep(0.05)
    await reading.aclose()
    with pytest.raises(ResumableStreamError, match="closed"):
        await asyncio.wait_for(reader, 2)
    assert seen == [b"one"]
    await acquired.producer.close()
    await producing.aclose()


async def test_the_end_is_not_written_when_entries_pushed_before_it_are_missing(
    redis_client: Any, key_prefix: str
) -> None:
    store = create_redis_resumable_stream_store(redis_client, key_prefix=key_prefix)
    acquired = await store.acquire_producer("a")
    producer: Any = acquired.producer
    try:
        await producer.append_many([b"one", b"two"])
        # The end expects three entries: the stream stays open, nothing is written.
        result = await store._finalize_stream("a", "done", None, producer.token, expected_last=3)
        assert result == -4
        assert await store.status("a") == "streaming"
        assert (
            await store._finalize_stream("a", "done", None, producer.token, expected_last=2) == 3
        )  # the end is entry 3
        assert await store.status("a") == "done"
    finally:
        await producer.close()
        await store.aclose()


@pytest.mark.parametrize("streams", [1, 4])
async def test_fast_producers_replay_exactly_what_local_readers_got(
    redis_server: RedisServer, key_prefix: str, streams: int
) -> None:
    """The frames a local reader got, numbered as the producer numbered them, are exactly what
    another worker reads back from Redis. With several streams on the store, each round trip
    carries several producers' appends, and the run's text deltas merge into fewer frames
    while one is in flight."""
    import redis.asyncio as redis

    from assistant_stream_ce.create_run import RunController
    from assistant_stream_ce.resumable import create_resumable_assistant_stream_response
    from assistant_stream_ce.serialization import AssistantTransportEncoder

    client_a, client_b = redis.from_url(redis_server.url), redis.from_url(redis_server.url)
    store_a = create_redis_resumable_stream_store(client_a, key_prefix=key_prefix)
    store_b = create_redis_resumable_stream_store(client_b, key_prefix=key_prefix)
    worker_a = create_resumable_stream_context(store=store_a)
    worker_b = create_resumable_stream_context(store=store_b)
    tokens = [f"t{i} " for i in range(3000)]

    async def callback(controller: RunController) -> None:
        for i, token in enumerate(tokens):
            controller.append_text(token)
            if i % 8 == 7:
                await asyncio.sleep(0)

    async def one(stream_id: str) -> tuple[bytes, list[Any]]:
        response = await create_resumable_assistant_stream_response(
            context=worker_a,
            stream_id=stream_id,
            callback=callback,
            encoder=AssistantTransportEncoder(),
            event_ids=True,
        )
        local = b"".join([part async for part in response.body_iterator])  # type: ignore[attr-defined]
        return local, [e async for e in worker_b.read_entries(stream_id)]

    try:
        results = await asyncio.gather(*(one(f"fast-{i}") for i in range(streams)))
        for local, replay in results:
            assert local == b"".join(b"id: %s\n%s" % (e.cursor.encode(), e.chunk) for e in replay)
            assert [e.cursor for e in replay] == [str(i) for i in range(1, len(replay) + 1)]
            text = "".join(
                json.loads(line[6:])["textDelta"]
                for e in replay
                for line in e.chunk.decode().split("\n")
                if line.startswith("data: {") and '"text-delta"' in line
            )
            assert text == "".join(tokens)
            if streams > 1:
                assert len(replay) < len(tokens) // 16  # merged while round trips were in flight
    finally:
        await store_a.aclose()
        await store_b.aclose()
        await client_a.aclose()
        await client_b.aclose()


async def test_a_round_trip_stores_each_producers_chunks_as_one_entry_read_from_any_cursor(
    two_workers: Any,
) -> None:
    """Chunks stay numbered one by one (the cursors readers see) whatever entry holds them: a
    reader on another worker resuming from a cursor inside an entry gets exactly the rest."""
    producer_client, producing, reading = two_workers
    acquired = await producing.acquire_producer("a")
    assert acquired.producer is not None
    await acquired.producer.append_many([b"c1", b"c2", b"c3", b"c4", b"c5"])
    await acquired.producer.append_many([b"c6"])
    assert await acquired.producer.finalize("done")
    await acquired.producer.close()
    data = await producer_client.xrange(f"{producing.key_prefix}:{{a}}:data")
    assert [entry_id for entry_id, _ in data] == [b"0-5", b"0-6", b"0-7"]  # the 7th: the end
    for cursor in ("", "2", "4", "5", "6"):
        got = await entries(reading, "a", cursor)
        first = int(cursor or 0) + 1
        assert [(e.cursor, e.chunk) for e in got] == [
            (str(n), f"c{n}".encode()) for n in range(first, 7)
        ]


async def test_local_readers_get_chunks_before_redis_has_them_and_remote_ones_catch_up(
    two_workers: Any,
) -> None:
    """Readers in the producer's process get each chunk when it is pushed, without waiting for
    the round trip; a reader that moved to another worker with a cursor Redis has not reached
    yet waits for those chunks instead of being refused."""
    producer_client, _, reading = two_workers
    store = create_redis_resumable_stream_store(
        producer_client, key_prefix=reading.key_prefix, write_interval=1.0
    )  # (the longest interval: no round trip of appends within a second of the last one)
    try:
        acquired = await store.acquire_producer("a")  # its round trip starts the interval
        producer = acquired.producer
        assert producer is not None
        producer.push_many([b"one", b"two"])
        local = store.read_frames("a", "", asyncio.Event())
        assert await asyncio.wait_for(anext(local), 0.3) == (1, [b"one", b"two"])
        assert await producer_client.xlen(f"{store.key_prefix}:{{a}}:data") == 0  # not yet
        # A resume on another worker after chunk 2 waits until Redis has it, then follows.
        remote = asyncio.create_task(entries(reading, "a", "2"))
        await asyncio.sleep(0.05)
        assert not remote.done()
        producer.push_many([b"three"])
        await producer.flush()
        assert await producer.finalize("done")
        got = await asyncio.wait_for(remote, 5)
        assert [(e.cursor, e.chunk) for e in got] == [("3", b"three")]
        assert [frame async for frame in local] == [(3, [b"three"])]
        await producer.close()
    finally:
        await store.aclose()


async def test_a_local_reader_ahead_of_redis_ends_with_an_error_when_the_writes_fail(
    redis_client: Any, key_prefix: str
) -> None:
    """Chunks a local reader already got whose round trip is refused (the lease was lost): the
    reader ends with an error, never silence."""
    store = create_redis_resumable_stream_store(
        redis_client, key_prefix=key_prefix, write_interval=1.0, lease_ms=300, block_ms=100
    )
    try:
        acquired = await store.acquire_producer("a")
        producer = acquired.producer
        assert producer is not None
        await producer.append_many([b"one"])
        producer.push_many([b"two"])  # handed to local readers, not written yet
        local = store.read_frames("a", "", asyncio.Event())
        assert await anext(local) == (1, [b"one", b"two"])
        await redis_client.delete(f"{key_prefix}:{{a}}:lease")  # the round trip is refused
        started = time.monotonic()
        with pytest.raises(ResumableStreamError):
            await asyncio.wait_for(anext(local), 5)
        assert time.monotonic() - started < 3
        await producer.close()
    finally:
        await store.aclose()
