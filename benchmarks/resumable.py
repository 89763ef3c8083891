"""Cost of resumability: a resumable stream on Redis and in memory against the same stream not
resumable, with 1 and 200 concurrent streams, in one process (no HTTP).

Every stream is the assistant transport (SSE) of a run appending text tokens. The plain stream
is ``AssistantTransportEncoder().iter_bytes(create_run(cb))``; the resumable ones are the body of
``create_resumable_assistant_stream_response`` (run recorded in the store, body read back from
it), with SSE ids. Two measurements per mode:

- throughput: every stream emits ``--tokens`` tokens as fast as it can; tokens/s over all
  streams until every body has ended;
- latency: every stream emits a token every ``--interval`` ms; for each token, the time from
  ``append_text`` to its frame reaching the body's reader. "added" is the resumable mode's
  percentile minus the plain stream's.

Modes: ``plain`` (the same run and encoder, not resumable: what a client gets without
resumability), ``in-memory``, ``redis`` (the producer's own response: the body is read in the
process that runs the stream, the usual case of the request that started it) and
``redis-remote`` (the body is read through a second store with its own Redis client, as a
resume on another worker reads it: every frame goes through ``XREAD``; both sides share this
process's CPU) and ``redis-worker`` (the same, with the reader in another process, as on
another worker: its tokens carry their send time, read against the same monotonic clock).
Every mode is measured ``--reps`` times, interleaved, and the median of each figure is printed.

Run: ``.venv/bin/python benchmarks/resumable.py`` (needs ``redis-server`` on PATH, or
``--redis-url``). It starts its own redis-server on 127.0.0.1 without persistence.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from assistant_stream_ce.create_run import RunController, create_run
from assistant_stream_ce.resumable import (
    create_in_memory_resumable_stream_store,
    create_redis_resumable_stream_store,
    create_resumable_assistant_stream_response,
    create_resumable_stream_context,
    create_resume_assistant_stream_response,
)
from assistant_stream_ce.serialization import AssistantTransportEncoder

TOKEN = re.compile(rb"~(\d+)~")


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit(
            "redis-server not found (apt-get install redis-server) or pass --redis-url"
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir, "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(8).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.02)
    process.kill()
    raise SystemExit("redis-server did not start")


Body = Callable[[Callable[[RunController], Any]], Any]


async def plain_body(callback: Callable[[RunController], Any]) -> AsyncIterator[bytes]:
    return AssistantTransportEncoder().iter_bytes(create_run(callback))


def resumable_body(context: Any) -> Body:
    async def body(callback: Callable[[RunController], Any]) -> AsyncIterator[bytes]:
        response = await create_resumable_assistant_stream_response(
            context=context,
            stream_id=f"bench-{uuid.uuid4().hex}",
            callback=callback,
            encoder=AssistantTransportEncoder(),
            event_ids=True,
        )
        return response.body_iterator  # type: ignore[attr-defined,no-any-return]

    return body


def remote_body(producer: Any, reader: Any) -> Body:
    """The run on ``producer``'s store; the body read through ``reader``'s (another worker)."""

    async def body(callback: Callable[[RunController], Any]) -> AsyncIterator[bytes]:
        stream_id = f"bench-{uuid.uuid4().hex}"
        response = await create_resumable_assistant_stream_response(
            context=producer,
            stream_id=stream_id,
            callback=callback,
            encoder=AssistantTransportEncoder(),
            event_ids=True,
        )
        await response.body_iterator.aclose()  # type: ignore[attr-defined]  # the run goes on
        resumed = await create_resume_assistant_stream_response(
            context=reader,
            stream_id=stream_id,
            encoder=AssistantTransportEncoder(),
            event_ids=True,
        )
        return resumed.body_iterator  # type: ignore[attr-defined,no-any-return]

    return body


async def throughput(make_body: Body, streams: int, tokens: int) -> float:
    async def one() -> None:
        async def callback(controller: RunController) -> None:
            for i in range(tokens):
                controller.append_text(f"~{i}~ ")
                if i % 8 == 7:
                    await asyncio.sleep(0)

        body = await make_body(callback)
        seen = b"".join([part async for part in body])
        assert f"~{tokens - 1}~".encode() in seen, "a stream lost tokens"

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(streams)))
    return streams * tokens / (time.perf_counter() - started)


async def latency(make_body: Body, streams: int, tokens: int, interval: float) -> list[float]:
    delays: list[float] = []

    async def one() -> None:
        sent: dict[int, float] = {}

        async def callback(controller: RunController) -> None:
            for i in range(tokens):
                sent[i] = time.perf_counter()
                controller.append_text(f"~{i}~ ")
                await asyncio.sleep(interval)

        body = await make_body(callback)
        async for part in body:
            now = time.perf_counter()
            for match in TOKEN.finditer(part):
                delays.append(now - sent[int(match.group(1))])

    await asyncio.gather(*(one() for _ in range(streams)))
    return delays


STAMPED = re.compile(rb"~(\d+)@([0-9.]+)~")
SCRIPT = os.path.abspath(__file__)


class ReaderWorker:
    """A second process (this script with ``--reader-worker``) that resumes streams through a
    store of its own: one command per measurement over its stdin/stdout (JSON lines)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url, self.prefix = url, prefix
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, SCRIPT, "--reader-worker",
            "--redis-url", self.url, "--prefix", self.prefix,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,  # a reply carries every delay
        )  # fmt: skip

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.process is not None and self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()
        return await self.answer()

    async def answer(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout
        line = await self.process.stdout.readline()
        if not line:
            raise SystemExit("the reader worker stopped")
        return json.loads(line)  # type: ignore[no-any-return]

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def on_worker(
    context: Any, worker: ReaderWorker, streams: int, tokens: int, interval: float | None
) -> tuple[float, list[float]]:
    """Run ``streams`` streams here, read them in ``worker``: (tokens/s, delays). Each run
    waits until the worker follows every stream, then emits ``tokens`` tokens (``interval``
    apart, or as fast as it can with None)."""
    go = asyncio.Event()

    async def callback(controller: RunController) -> None:
        await go.wait()
        for i in range(tokens):
            if interval is None:
                controller.append_text(f"~{i}@0~ ")
                if i % 8 == 7:
                    await asyncio.sleep(0)
            else:
                controller.append_text(f"~{i}@{time.perf_counter():.6f}~ ")
                await asyncio.sleep(interval)

    ids = [f"bench-{uuid.uuid4().hex}" for _ in range(streams)]
    for stream_id in ids:
        response = await create_resumable_assistant_stream_response(
            context=context, stream_id=stream_id, callback=callback,
            encoder=AssistantTransportEncoder(), event_ids=True,
        )  # fmt: skip
        await response.body_iterator.aclose()  # type: ignore[attr-defined]  # the run goes on
    assert (await worker.ask({"ids": ids, "tokens": tokens}))["ready"]
    started = time.perf_counter()
    go.set()
    result = await worker.answer()
    return streams * tokens / (result["finished"] - started), result["delays"]


async def reader_worker(url: str, prefix: str) -> None:
    """The ``--reader-worker`` side of `ReaderWorker`."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, max_connections=2000)
    context = create_resumable_stream_context(
        store=create_redis_resumable_stream_store(client, key_prefix=prefix)
    )
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        command = json.loads(line)
        delays: list[float] = []
        last = f"~{command['tokens'] - 1}@".encode()

        async def read(body: Any, delays: list[float], last: bytes) -> None:
            seen = False
            async for part in body:
                now = time.perf_counter()
                for match in STAMPED.finditer(part):
                    if match.group(2) != b"0":
                        delays.append(now - float(match.group(2)))
                seen = seen or last in part
            assert seen, "a stream lost tokens"

        bodies = []
        for stream_id in command["ids"]:
            response = await create_resume_assistant_stream_response(
                context=context, stream_id=stream_id, encoder=AssistantTransportEncoder(),
                event_ids=True,
            )  # fmt: skip
            bodies.append(response.body_iterator)  # type: ignore[attr-defined]
        readers = [asyncio.create_task(read(body, delays, last)) for body in bodies]
        await asyncio.sleep(0.2)  # every reader follows its stream
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.gather(*readers)
        finished = time.perf_counter()
        print(json.dumps({"finished": finished, "delays": delays}), flush=True)


#: One mode's measurement: (streams, tokens, paced tokens, interval) → (tokens/s, delays).
Measure = Callable[[int, int, int, float], Awaitable[tuple[float, list[float]]]]


def in_process(make_body: Body) -> Measure:
    """Throughput (after a warm-up), then latency, of bodies read in this process."""

    async def measure(
        streams: int, tokens: int, paced: int, interval: float
    ) -> tuple[float, list[float]]:
        await throughput(make_body, min(streams, 5), 50)  # warm up
        gc.collect()
        rate = await throughput(make_body, streams, tokens)
        return rate, await latency(make_body, streams, paced, interval)

    return measure


def in_worker(context: Any, worker: ReaderWorker) -> Measure:
    """The same, the streams run on ``context`` and read in ``worker`` (see `on_worker`)."""

    async def measure(
        streams: int, tokens: int, paced: int, interval: float
    ) -> tuple[float, list[float]]:
        await on_worker(context, worker, min(streams, 5), 50, None)  # warm up
        gc.collect()
        rate, _ = await on_worker(context, worker, streams, tokens, None)
        return rate, (await on_worker(context, worker, streams, paced, interval))[1]

    return measure


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def hiredis_in_use() -> bool:
    try:
        from redis.utils import HIREDIS_AVAILABLE
    except ImportError:
        return False
    return bool(HIREDIS_AVAILABLE)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000, help="tokens per stream (throughput)")
    parser.add_argument("--paced-tokens", type=int, default=150, help="tokens per stream (latency)")
    parser.add_argument("--interval", type=float, default=20.0, help="ms between paced tokens")
    parser.add_argument("--streams", default="1,200", help="concurrent streams, comma-separated")
    parser.add_argument("--reps", type=int, default=3, help="measurements per mode (median)")
    parser.add_argument("--modes", default="plain,in-memory,redis,redis-remote,redis-worker")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument(
        "--write-interval", type=float, default=None,
        help="the Redis store's write_interval in seconds (default: the store's default)",
    )  # fmt: skip
    parser.add_argument("--reader-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader_worker:
        await reader_worker(args.redis_url, args.prefix)
        return

    import redis
    import redis.asyncio as aioredis

    server = None
    url = args.redis_url
    if url is None:
        server, url = start_redis()
    print(f"redis-py {redis.__version__}, hiredis parser: {'yes' if hiredis_in_use() else 'no'}")
    prefix = f"bench:{uuid.uuid4().hex[:6]}"
    client = aioredis.from_url(url, max_connections=2000)
    other_client = aioredis.from_url(url, max_connections=2000)
    options = {} if args.write_interval is None else {"write_interval": args.write_interval}
    redis_store = create_redis_resumable_stream_store(client, key_prefix=prefix, **options)
    other_store = create_redis_resumable_stream_store(other_client, key_prefix=prefix, **options)
    memory_store = create_in_memory_resumable_stream_store()
    redis_context = create_resumable_stream_context(store=redis_store)
    worker = ReaderWorker(url, prefix)
    all_modes: dict[str, Measure] = {
        "plain": in_process(plain_body),
        "in-memory": in_process(
            resumable_body(create_resumable_stream_context(store=memory_store))
        ),
        "redis": in_process(resumable_body(redis_context)),
        "redis-remote": in_process(
            remote_body(redis_context, create_resumable_stream_context(store=other_store))
        ),
        "redis-worker": in_worker(redis_context, worker),
    }
    modes = {name: all_modes[name] for name in args.modes.split(",")}
    if "redis-worker" in modes:
        await worker.start()
    try:
        for streams in [int(s) for s in args.streams.split(",")]:
            tokens = args.tokens if streams == 1 else max(50, args.tokens // 10)
            print(f"\n## {streams} concurrent stream(s)")
            print(f"throughput: {tokens} tokens per stream as fast as possible")
            print(
                f"latency: {args.paced_tokens} tokens per stream, one every {args.interval} ms; "
                f"median of {args.reps} rep(s)\n"
            )
            figures: dict[str, dict[str, list[float]]] = {
                name: {"rate": [], "p50": [], "p99": []} for name in modes
            }
            for _rep in range(args.reps):
                for name, measure in modes.items():
                    rate, delays = await measure(
                        streams, tokens, args.paced_tokens, args.interval / 1000
                    )
                    figures[name]["rate"].append(rate)
                    figures[name]["p50"].append(percentile(delays, 0.5) * 1000)
                    figures[name]["p99"].append(percentile(delays, 0.99) * 1000)
            print("| mode | tokens/s | vs plain | p50 ms | p99 ms | added p50 ms | added p99 ms |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            median = {
                name: {k: statistics.median(v) for k, v in values.items()}
                for name, values in figures.items()
            }
            base = median.get("plain", {"rate": math.nan, "p50": math.nan, "p99": math.nan})
            for name, m in median.items():
                print(
                    f"| {name} | {m['rate']:,.0f} | {m['rate'] / base['rate']:.2f}x"
                    f" | {m['p50']:.2f} | {m['p99']:.2f}"
                    f" | {m['p50'] - base['p50']:+.2f} | {m['p99'] - base['p99']:+.2f} |"
                )
    finally:
        await worker.stop()
        await redis_store.aclose()
        await other_store.aclose()
        await client.aclose()
        await other_client.aclose()
        if server is not None:
            server.terminate()
            server.wait(5)


if __name__ == "__main__":
    asyncio.run(main())
