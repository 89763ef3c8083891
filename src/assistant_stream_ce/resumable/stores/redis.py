"""A resumable-stream store on Redis Streams, shared by every worker that uses the same server.

Layout per stream (one hash tag, so a cluster keeps them on one slot)::

    {prefix}:{<id>}:meta   hash: status, seq (last chunk number), first, ttl, leased, error
    {prefix}:{<id>}:data   stream: entry ``0-<n>`` holds the chunks up to chunk n that one
                           round trip wrote (field ``c``, their lengths in ``l`` when more than
                           one); the last entry holds the end (field ``fin`` = done|error,
                           ``error`` = message)
    {prefix}:{<id>}:lease  the producer's token, expiring after ``lease_ms`` unless renewed
    {prefix}:{<id>}:stop   set when a stop was requested (also announced on ``{prefix}:stop``)

Chunks are numbered one by one (the cursors readers see), whatever entry holds them. Appends
run one Lua script per round trip for every producer of the store (lease check, one ``XADD``
per producer, trim, ``PEXPIRE``), so a fast producer costs one entry per round trip, not one
per chunk. A reader in the producer's process follows the producer's chunks as they are
pushed, without reading them back. Other readers catch up with
``XREAD`` and then follow through one ``XREAD BLOCK`` per store for all the streams they follow
(no polling interval, one blocked connection); when a followed stream has been quiet for a
block they check the producer's lease, and a stream whose producer died (its lease expired) is
ended with an error by that reader.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Literal, Protocol

from .._wait import IdleTicker, SignalWatch, parse_cursor, wake
from ..errors import DEFAULT_TTL_MS, ResumableStreamError, validate_stream_id
from ..types import (
    Acquisition,
    CancellationSignal,
    ResumableStreamRole,
    ResumableStreamStatus,
)
from ..types import ResumableStreamEntry as ResumableStreamEntry  # 0.0.36 exposes it here
from ._frames import FrameReads

__all__ = [
    "DEFAULT_BLOCK_MS",
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_LEASE_MS",
    "DEFAULT_POLL_INTERVAL_MS",
    "DEFAULT_WRITE_INTERVAL",
    "FIELD_CHUNK",
    "FIELD_ERROR",
    "FIELD_FIN",
    "FIN_DONE",
    "FIN_ERROR",
    "STREAM_START_ID",
    "RedisLikeClient",
    "RedisResumableStreamStore",
    "create_redis_resumable_stream_store",
]

logger = logging.getLogger("assistant_stream_ce.resumable")

DEFAULT_KEY_PREFIX = "assistant-stream-ce:resumable"
#: Longest single ``XREAD BLOCK`` (also the longest a reader waits before checking the lease).
DEFAULT_BLOCK_MS = 1000
#: How long a producer's lease lasts without renewal (renewed every third of it).
DEFAULT_LEASE_MS = 2000
#: Shortest time between two round trips of appends while chunks keep coming (seconds): what
#: arrives meanwhile goes in the next one (a chunk after a quiet interval goes at once).
DEFAULT_WRITE_INTERVAL = 0.002
#: Kept from 0.0.36 (whose readers polled): accepted by the constructors, unused.
DEFAULT_POLL_INTERVAL_MS = 100
#: Field names of stream entries: a chunk, or the end (``fin`` = done|error, ``error``).
FIELD_CHUNK = "c"
#: The lengths of the chunks an entry holds ("3,5,2"), when it holds more than one.
FIELD_LENGTHS = "l"
FIELD_FIN = "fin"
FIELD_ERROR = "error"
FIN_DONE = "done"
FIN_ERROR = "error"
#: The id before the first entry.
STREAM_START_ID = "0-0"
_CHUNK, _FIN, _ERROR = FIELD_CHUNK.encode(), FIELD_FIN.encode(), FIELD_ERROR.encode()
_LENGTHS = FIELD_LENGTHS.encode()
_FIN_ERROR = FIN_ERROR.encode()

#: How many of its last entries a producer keeps for the readers in its process (up to twice
#: that); a reader further behind reads from Redis until it catches up.
RECENT_ENTRIES = 1024

#: The message of the error that ends a stream whose producer died.
PRODUCER_LOST = "The stream's producer stopped without finishing the stream"

_ACQUIRE = """
local status = redis.call('HGET', KEYS[1], 'status')
if status then return status end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
local leased = '0'
if ARGV[3] ~= '' then
  leased = '1'
  redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[2])
end
redis.call('HSET', KEYS[1], 'status', 'streaming', 'seq', 0, 'first', 1, 'ttl', ARGV[1],
  'leased', leased)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 'producer'
"""

_APPEND = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if status ~= 'streaming' then return -2 end
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return -3 end
local n = #ARGV - 2
local last = redis.call('HINCRBY', KEYS[1], 'seq', n)
local seq = last - n
for i = 3, #ARGV do
  seq = seq + 1
  redis.call('XADD', KEYS[2], '0-' .. seq, 'c', ARGV[i])
end
local maxlen = tonumber(ARGV[2])
if maxlen > 0 and last > maxlen then
  redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. (last - maxlen + 1))
  redis.call('HSET', KEYS[1], 'first', last - maxlen + 1)
end
local ttl = redis.call('HGET', KEYS[1], 'ttl')
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return last
"""

# The appends of many producers in one call, each producer's chunks as one stream entry: KEYS =
# meta, data, lease of each stream; ARGV = maxlen, then for each stream a header
# "<token>\n<number of chunks n>\n<their lengths, "3,5,2", or '' when n = 1>" (token '' = none)
# and the chunks joined (two arguments per stream: a round trip's cost grows with its arguments).
# The entry's id is the number of its last chunk: 'c' holds the chunks, 'l' their lengths (when
# n > 1). Trimming keeps the entries holding the last maxlen chunks. Returns each stream's
# result as _APPEND does.
_APPEND_MANY = """
local maxlen = tonumber(ARGV[1])
local results = {}
local a = 2
for k = 1, #KEYS, 3 do
  local meta, data = KEYS[k], KEYS[k + 1]
  local token, n, lengths = string.match(ARGV[a], '^([^\\n]*)\\n(%d+)\\n(.*)$')
  n = tonumber(n)
  local status = redis.call('HGET', meta, 'status')
  local result
  if not status then
    result = -1
  elseif status ~= 'streaming' then
    result = -2
  elseif token ~= '' and redis.call('GET', KEYS[k + 2]) ~= token then
    result = -3
  else
    local last = redis.call('HINCRBY', meta, 'seq', n)
    if n == 1 then
      redis.call('XADD', data, '0-' .. last, 'c', ARGV[a + 1])
    else
      redis.call('XADD', data, '0-' .. last, 'c', ARGV[a + 1], 'l', lengths)
    end
    if maxlen > 0 and last > maxlen then
      redis.call('XTRIM', data, 'MINID', '0-' .. (last - maxlen + 1))
      redis.call('HSET', meta, 'first', last - maxlen + 1)
    end
    local ttl = redis.call('HGET', meta, 'ttl')
    redis.call('PEXPIRE', meta, ttl)
    redis.call('PEXPIRE', data, ttl)
    result = last
  end
  results[#results + 1] = result
  a = a + 2
end
return results
"""
#: Arguments past which a round trip's appends are split into another script call.
APPEND_CALL_ARGS = 8192

# Ends a stream: ARGV = status, error, token ('' = any), only_if_lease_expired ('1'/'0'), the
# number of the last entry expected before the end ('' = any). Returns the end's entry number,
# or 0 (already ended), -1 (missing), -3 (not the lease holder), -4 (entries are missing).
_FINALIZE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if status ~= 'streaming' then return 0 end
if ARGV[4] == '1' then
  if redis.call('HGET', KEYS[1], 'leased') ~= '1' or redis.call('EXISTS', KEYS[3]) == 1 then
    return 0
  end
elseif ARGV[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[3] then
  return -3
end
if ARGV[5] and ARGV[5] ~= '' and redis.call('HGET', KEYS[1], 'seq') ~= ARGV[5] then
  return -4
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
if ARGV[1] == 'error' then
  redis.call('HSET', KEYS[1], 'status', 'error', 'error', ARGV[2])
  redis.call('XADD', KEYS[2], '0-' .. seq, 'fin', 'error', 'error', ARGV[2])
else
  redis.call('HSET', KEYS[1], 'status', 'done')
  redis.call('XADD', KEYS[2], '0-' .. seq, 'fin', 'done')
end
redis.call('DEL', KEYS[3], KEYS[4])
local ttl = redis.call('HGET', KEYS[1], 'ttl')
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return seq
"""

# A stream's status, whether it was leased and whether its lease is still held ({} = missing).
_STATUS = """
local meta = redis.call('HMGET', KEYS[1], 'status', 'leased')
if not meta[1] then return {} end
local lease = 0
if meta[1] == 'streaming' then lease = redis.call('EXISTS', KEYS[2]) end
return {meta[1], meta[2] or '', lease}
"""

_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
return 1
"""

_STOP = """
if redis.call('HGET', KEYS[1], 'status') ~= 'streaming' then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', redis.call('HGET', KEYS[1], 'ttl'))
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
"""


_RENEW_SHA = hashlib.sha1(_RENEW.encode()).hexdigest()


class RedisLikeClient(Protocol):
    """The part of ``redis.asyncio.Redis`` the store uses (create it without
    ``decode_responses``)."""

    def register_script(self, *args: Any, **kwargs: Any) -> Any: ...

    def pubsub(self, *args: Any, **kwargs: Any) -> Any: ...

    def xread(self, *args: Any, **kwargs: Any) -> Any: ...

    def hmget(self, *args: Any, **kwargs: Any) -> Any: ...

    def delete(self, *args: Any, **kwargs: Any) -> Any: ...

    def exists(self, *args: Any, **kwargs: Any) -> Any: ...

    def pipeline(self, *args: Any, **kwargs: Any) -> Any: ...

    def script_load(self, *args: Any, **kwargs: Any) -> Any: ...


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, (bytes, bytearray)) else str(value)


class _Keys:
    __slots__ = ("data", "lease", "meta", "stop")

    def __init__(self, prefix: str, stream_id: str) -> None:
        base = f"{prefix}:{{{stream_id}}}"
        self.meta = base + ":meta"
        self.data = base + ":data"
        self.lease = base + ":lease"
        self.stop = base + ":stop"

    @property
    def all(self) -> list[str]:
        return [self.meta, self.data, self.lease, self.stop]


#: A script call waiting for a round trip: script, its SHA1, keys, arguments, the caller's future.
_Call = tuple[str, str, list[Any], list[Any], "asyncio.Future[Any]"]


class _AppendQueue:
    """Appends of every producer of a store, sent together: a producer's chunks wait in its
    ``unsent`` list; while a round trip is in flight the chunks of every producer pile up,
    then go in the next one (one script call for all of them). No task or future per producer
    or per chunk: the acknowledgement hands each producer its entries."""

    def __init__(self, store: RedisResumableStreamStore) -> None:
        self._store = store
        self._ready: dict[_RedisProducer, None] = {}  # producers with unsent chunks, in order
        self._task: asyncio.Task[None] | None = None
        # Other script calls (acquire, finalize) waiting for the next round trip.
        self._calls: list[_Call] = []
        self._started = -math.inf  # when the last round trip of appends started (loop time)
        self.producers = 0  # how many producers the last round trip of appends carried
        self._pause: asyncio.Future[None] | None = None  # the wait between round trips

    def ready(self, producer: _RedisProducer) -> None:
        self._ready[producer] = None
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush())

    def call(self, script: str, sha: str, keys: list[Any], args: list[Any]) -> Awaitable[Any]:
        """Run ``script`` in the next round trip (with the appends and the other calls of every
        stream of the store, instead of a command and a connection of its own)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._calls.append((script, sha, keys, args, future))
        if self._task is None:
            self._task = loop.create_task(self._flush())
        elif self._pause is not None:
            wake(self._pause)
        return future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._store.write_interval
        try:
            while self._ready or self._calls:
                if interval and not self._calls:
                    # Write coalescing: round trips of appends at most one per interval while
                    # chunks keep coming (what arrives meanwhile joins the next one). After a
                    # quiet interval a chunk goes at once; other calls are never held back.
                    wait = self._started + interval - loop.time()
                    if wait > 0:
                        # A call (an end, say) arriving meanwhile ends the wait.
                        pause = self._pause = loop.create_future()
                        timer = loop.call_later(wait, wake, pause)
                        try:
                            await pause
                        finally:
                            timer.cancel()
                            self._pause = None
                producers = list(self._ready)
                self._ready.clear()
                batch: list[tuple[_RedisProducer, list[bytes]]] = []
                for producer in producers:
                    chunks, producer.unsent = producer.unsent, []
                    if not chunks:  # abandoned meanwhile
                        producer._settle([], 0)
                        continue
                    producer.in_flight = True
                    batch.append((producer, chunks))
                calls, self._calls = self._calls, []
                if not batch and not calls:
                    continue
                self._started = loop.time()  # (any round trip: the next appends wait for it)
                if batch:
                    self.producers = len(batch)
                try:
                    results, replies = await self._send(batch, calls)
                except BaseException as exc:
                    results = [exc] * len(batch)
                    replies = [exc] * len(calls)
                    if not isinstance(exc, Exception):  # cancelled: settle, then go
                        self._settle(batch, results, calls, replies)
                        raise
                self._settle(batch, results, calls, replies)
        finally:
            self._task = None

    def _settle(
        self,
        batch: list[tuple[_RedisProducer, list[bytes]]],
        results: list[Any],
        calls: list[_Call],
        replies: list[Any],
    ) -> None:
        for (producer, chunks), result in zip(batch, results, strict=True):
            producer.in_flight = False
            producer._settle(chunks, result)
            if producer.unsent and producer.error is None:
                self._ready[producer] = None
        for call, reply in zip(calls, replies, strict=True):
            future = call[4]
            if future.done():  # its caller went away
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            elif isinstance(reply, BaseException):  # the round trip was cancelled
                future.cancel()
            else:
                future.set_result(reply)

    async def _send(
        self, batch: list[tuple[_RedisProducer, list[bytes]]], calls: list[_Call]
    ) -> tuple[list[Any], list[Any]]:
        """One round trip: one script call for many producers' appends (a few, for very large
        batches) and the other calls waiting. Returns each producer's result and each call's
        reply."""
        store = self._store
        maxlen = store.maxlen or 0
        scripts: list[tuple[str, str, list[Any], list[Any]]] = []
        sizes: list[int] = []
        keys: list[Any] = []
        args: list[Any] = [maxlen]
        sha = store._append_many_sha
        for producer, chunks in batch:
            names = producer.keys
            keys += (names.meta, names.data, names.lease)
            if len(chunks) == 1:
                args += (producer.header_one, chunks[0])
            else:
                lengths = b",".join([b"%d" % len(chunk) for chunk in chunks])
                header = b"%s\n%d\n%s" % (producer.token_bytes, len(chunks), lengths)
                args += (header, b"".join(chunks))
            if len(args) >= APPEND_CALL_ARGS:
                scripts.append((_APPEND_MANY, sha, keys, args))
                sizes.append(len(keys) // 3)
                keys, args = [], [maxlen]
        if keys:
            scripts.append((_APPEND_MANY, sha, keys, args))
            sizes.append(len(keys) // 3)
        appends = len(scripts)
        scripts += [(c[0], c[1], c[2], c[3]) for c in calls]
        replies = await _run_scripts(store._client, scripts)
        results: list[Any] = []
        for reply, size in zip(replies[:appends], sizes, strict=True):
            if isinstance(reply, Exception):
                results += [reply] * size
            else:
                results += reply
        return results, replies[appends:]


class _Follower:
    """A reader waiting on the store's `_Tail` for the entries of one stream."""

    __slots__ = ("error", "future", "key", "pending", "quiet")

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.pending: list[tuple[Any, dict[bytes, bytes]]] = []
        self.quiet = False  # no entry for a whole block: time to check the producer's lease
        self.error: BaseException | None = None
        self.future: asyncio.Future[None] | None = None

    def notify(self) -> None:
        future, self.future = self.future, None
        if future is not None:
            wake(future)


class _Watch:
    __slots__ = ("followers", "heard", "position")

    def __init__(self, position: int, now: float) -> None:
        self.position = position
        self.followers: list[_Follower] = []
        self.heard = now


class _Tail:
    """One ``XREAD BLOCK`` for every stream the readers of a store follow from Redis (instead
    of a blocking call, and a connection, per reader).

    A reader that caught up registers with `follow`; the loop reads all followed streams in one
    call and hands each reader its stream's new entries. A stream followed while the call is
    blocked is added by waking the call: one ``XADD`` to a small stream of this store's own
    (``{prefix}:tail:<random>``, expiring), read by the same call.
    """

    def __init__(self, store: RedisResumableStreamStore) -> None:
        self._store = store
        self._watches: dict[bytes, _Watch] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake_key = f"{store.key_prefix}:tail:{secrets.token_hex(8)}".encode()
        self._wake_id = b"0-0"
        self._blocked_on: set[bytes] = set()  # the streams the call in flight reads
        self._waking = False

    def follow(self, key: bytes, position: int) -> _Follower:
        loop = asyncio.get_running_loop()
        follower = _Follower(key)
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = _Watch(position, loop.time())
        elif position < watch.position:
            watch.position = position  # the others skip what they already have
        watch.followers.append(follower)
        if self._task is None:
            self._task = loop.create_task(self._run())
        elif self._blocked_on and key not in self._blocked_on and not self._waking:
            self._waking = True
            loop.create_task(self._wake()).add_done_callback(_retrieve)
        return follower

    def unfollow(self, follower: _Follower) -> None:
        watch = self._watches.get(follower.key)
        if watch is None:
            return
        if follower in watch.followers:
            watch.followers.remove(follower)
        if not watch.followers:
            del self._watches[follower.key]

    async def _wake(self) -> None:
        try:
            pipe = self._store._client.pipeline(transaction=False)
            pipe.xadd(self._wake_key, {b"w": b"1"}, maxlen=1, approximate=False)
            pipe.pexpire(self._wake_key, 60_000)
            await pipe.execute()
        except Exception as exc:  # the loop still picks the stream up within a block
            logger.debug("waking the resumable stream tail failed: %s", exc)
        finally:
            self._waking = False

    async def _run(self) -> None:
        store = self._store
        client = store._client
        loop = asyncio.get_running_loop()
        block_s = store.block_ms / 1000
        try:
            while self._watches:
                streams: dict[bytes, bytes] = {self._wake_key: self._wake_id}
                for key, watch in self._watches.items():
                    streams[key] = b"0-%d" % watch.position
                self._blocked_on = set(streams)
                try:
                    reply = await client.xread(streams, count=1000, block=store.block_ms)
                except Exception as exc:
                    for failed in list(self._watches.values()):
                        for follower in failed.followers:
                            follower.error = exc
                            follower.notify()
                    self._watches.clear()
                    return
                finally:
                    self._blocked_on = set()
                now = loop.time()
                for name, entries in _reply_streams(reply):
                    if not entries:
                        continue
                    if name == self._wake_key:
                        self._wake_id = entries[-1][0]
                        continue
                    read = self._watches.get(name)
                    if read is None:
                        continue
                    read.position = int(_text(entries[-1][0]).partition("-")[2])
                    read.heard = now
                    for follower in read.followers:
                        follower.pending.extend(entries)
                        follower.notify()
                for watch in self._watches.values():
                    if now - watch.heard >= block_s:
                        watch.heard = now
                        for follower in watch.followers:
                            follower.quiet = True
                            follower.notify()
        finally:
            self._task = None
            if self._watches:  # followed while the loop was ending
                self._task = loop.create_task(self._run())

    async def aclose(self) -> None:
        task, self._task = self._task, None
        closed = ResumableStreamError("failed", "The stream store was closed")
        for watch in self._watches.values():
            for follower in watch.followers:
                follower.error = closed
                follower.notify()
        self._watches.clear()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _evalsha_batch(
    client: Any, script: str, sha: str, calls: list[tuple[list[Any], list[Any]]]
) -> list[Any]:
    """Run one script many times in one pipelined round trip (see `_run_scripts`)."""
    return await _run_scripts(client, [(script, sha, keys, args) for keys, args in calls])


async def _run_scripts(
    client: Any, calls: list[tuple[str, str, list[Any], list[Any]]]
) -> list[Any]:
    """Run scripts (source, SHA1, keys, arguments) in one pipelined round trip; replies (errors
    included) in order. Calls refused with NOSCRIPT (the server lost its scripts) are run again
    once, after loading their scripts."""
    results: list[Any] = [None] * len(calls)
    todo = list(range(len(calls)))
    for attempt in range(2):
        pipe = client.pipeline(transaction=False)
        for index in todo:
            _, sha, keys, args = calls[index]
            pipe.evalsha(sha, len(keys), *keys, *args)
        replies = await pipe.execute(raise_on_error=False)
        missing = []
        for index, reply in zip(todo, replies, strict=True):
            results[index] = reply
            if _is_noscript(reply):
                missing.append(index)
        if not missing or attempt:
            break
        for script in dict.fromkeys(calls[index][0] for index in missing):
            await client.script_load(script)
        todo = missing  # only these did not run
    return results


def _is_noscript(result: Any) -> bool:
    if not isinstance(result, Exception):
        return False
    text = str(result)
    return (
        type(result).__name__ == "NoScriptError"
        or "NOSCRIPT" in text
        or "No matching script" in text
    )


class _RedisProducer:
    """A producer's lease on one stream, kept alive by the store's lease keeper; appends and the
    end are only accepted while this producer holds it.

    It also keeps the entries it pushed last (``recent``, numbered from ``recent_first``), so the
    readers of its stream in this process follow it without reading them back from Redis: an
    entry reaches them as soon as it is pushed, with the number Redis gives it when the round
    trip lands (one writer per lease: entry n is the n-th chunk pushed). Should a write fail,
    the run fails and these readers end with its error, as a reader on another worker would.
    """

    batched = True

    def __init__(self, store: RedisResumableStreamStore, stream_id: str, token: str) -> None:
        self._store = store
        self.stream_id = stream_id
        self.keys = _Keys(store.key_prefix, stream_id)
        self.token = token
        self.token_bytes = token.encode()
        self.header_one = self.token_bytes + b"\n1\n"  # the append header of a single chunk
        self.stop_requested = asyncio.Event()
        self.lease_lost = False
        self.finishing = False
        self.written = 0  # the number of the last entry Redis acknowledged
        self.recent: list[bytes] = []  # the chunks of the entries from recent_first on
        self.recent_first = 1
        # The end this producer wrote: (entry number, error message or None for done).
        self.end: tuple[int, str | None] | None = None
        self.detached = False  # local readers must read from Redis (the end is not known here)
        self.unsent: list[bytes] = []  # pushed, not sent yet
        self.pushed = 0  # chunks pushed in all (the entries 1..pushed once all are written)
        self.in_flight = False
        self.error: BaseException | None = None  # the write error that stopped this producer
        self.on_written: Callable[[list[bytes]], None] | None = None
        self._flushes: list[asyncio.Future[None]] = []
        self._acks: list[asyncio.Future[None]] = []
        self._waiters: list[asyncio.Future[None]] = []

    def covers(self, position: int) -> bool:
        """Whether local readers at ``position`` may follow this producer."""
        return (
            not (self.detached or self.lease_lost)
            and self.recent_first - 1 <= position <= self.pushed
        )

    def _keep(self, chunks: list[bytes]) -> None:
        """Hand pushed ``chunks`` to the readers in this process."""
        recent = self.recent
        recent += chunks
        if len(recent) > 2 * RECENT_ENTRIES:
            drop = len(recent) - RECENT_ENTRIES
            del recent[:drop]
            self.recent_first += drop
        self._wake()

    def _written(self, chunks: list[bytes], last: int) -> None:
        """Redis stored ``chunks`` as the entries up to ``last``."""
        if last != self.written + len(chunks):  # not expected (one writer per lease)
            logger.warning(
                "resumable stream %s: Redis numbered entries unexpectedly; readers in this "
                "process now read from Redis",
                self.stream_id,
            )
            self.detached = True
            self._wake()
        self.written = last

    def _wake(self) -> None:
        waiters = self._waiters
        if waiters:  # (no new list per push while no reader waits)
            self._waiters = []
            for future in waiters:
                wake(future)

    def after(self, position: int) -> list[bytes] | None:
        """The chunks of the entries after ``position`` this producer holds (None: read them
        from Redis)."""
        start = position + 1 - self.recent_first
        if start < 0 or self.detached or self.lease_lost:
            return None
        return self.recent[start:]

    def waiter(self) -> asyncio.Future[None]:
        """A future resolved when entries are written or local readers must go to Redis."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        return future

    async def start(self) -> None:
        store = self._store
        store._producers[self.stream_id] = self
        try:
            await store._ensure_background()
        except BaseException:
            store._producers.pop(self.stream_id, None)
            raise
        # A stop requested before this producer was registered reaches it through the store's
        # ``_early_stops`` (see `acquire_producer`); the lease renewals would also see it.

    def lost(self) -> None:
        self.lease_lost = True
        self.stop_requested.set()
        self._wake()

    def push(self, chunk: bytes) -> None:
        """Queue ``chunk`` for the store's next round trip (raises the write error, if any)."""
        if self.error is not None:
            raise self.error
        store = self._store
        if store.max_chunk_bytes is not None or not isinstance(chunk, bytes):
            store._check_chunks([chunk])
        self.unsent.append(chunk)
        self.pushed += 1
        if not self.in_flight and len(self.unsent) == 1:
            store._appends.ready(self)
        self._keep([chunk])

    def push_many(self, chunks: list[bytes]) -> None:
        """`push` for every chunk of ``chunks``."""
        if self.error is not None:
            raise self.error
        store = self._store
        if store.max_chunk_bytes is not None or not all(type(c) is bytes for c in chunks):
            store._check_chunks(chunks)
        was_empty = not self.unsent
        self.unsent += chunks
        self.pushed += len(chunks)
        if was_empty and not self.in_flight:
            store._appends.ready(self)
        self._keep(chunks)

    def acknowledged(self) -> asyncio.Future[None] | None:
        """A future resolved when this producer's next round trip is answered (None if it has
        nothing queued or in flight, or if the store's last round trip carried no other
        producer's appends). The producer waits for it before encoding more: what the run makes
        meanwhile is merged into fewer, larger frames (write coalescing while the store is busy
        with many streams; a lone stream's frames reach its readers here at once)."""
        if not (self.in_flight or self.unsent):
            return None
        if self._store._appends.producers < 2:
            return None  # alone: hand each frame on at once (the readers here have it already)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks.append(future)
        return future

    @property
    def backlog(self) -> int:
        return len(self.unsent)

    async def flush(self) -> None:
        """Wait until every chunk pushed is written; raise the write error, if any."""
        if self.unsent or self.in_flight:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._flushes.append(future)
            await future
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """Write nothing more."""
        self.unsent = []
        if self.error is None:
            self.error = ResumableStreamError("lease-lost", "the producer stopped writing")

    def _settle(self, chunks: list[bytes], result: Any) -> None:
        if not chunks:
            pass
        elif isinstance(result, BaseException):
            self.error = result
        else:
            last = int(result)
            if last > 0:
                self._written(chunks, last)
                if self.on_written is not None:
                    self.on_written(chunks)
            else:
                if last == -3:
                    self.lost()
                self.error = self._store._append_error(last, self.stream_id)
        if self.error is not None:
            self.unsent = []
        if not self.unsent or self.error is not None:
            flushes, self._flushes = self._flushes, []
            for future in flushes:
                wake(future)
        acks, self._acks = self._acks, []
        for future in acks:
            wake(future)

    async def append_many(self, chunks: list[bytes]) -> None:
        self._store._check_chunks(chunks)
        for chunk in chunks:
            self.push(chunk)
        await self.flush()

    #: The end may be requested before the chunks pushed are written: it goes in the store's
    #: next round trip, after them, and "done" is written only if every one of them was.
    finalize_after_pushes = True

    async def finalize(self, status: Literal["done", "error"], error: str | None = None) -> bool:
        self.finishing = True  # the keeper stops renewing; the end removes the lease
        try:
            if status == "done":
                # Only after all this producer's entries (the round trips go in order, and in
                # one the appends run before the other calls); else wait for the write error.
                result = await self._store._finalize_stream(
                    self.stream_id, status, error, self.token, expected_last=self.pushed
                )
                if result == -4:
                    await self.flush()  # raises the error that lost them
                    raise ResumableStreamError("failed", "entries of the stream were not written")
            else:
                result = await self._store._finalize_stream(
                    self.stream_id, status, error, self.token
                )
        except BaseException:
            self.detached = True
            self._wake()
            raise
        if result > 0:  # local readers end here, after the entries before the end
            self.end = (result, (error or "Stream errored") if status == "error" else None)
        else:
            self.detached = True  # someone else ended it: readers read the end from Redis
            if result == -3:
                self.lease_lost = True
        self._wake()
        return result > 0

    async def close(self) -> None:
        self.finishing = True
        if self.end is None:
            self.detached = True
        self._wake()
        store = self._store
        if store._producers.get(self.stream_id) is self:
            del store._producers[self.stream_id]


class RedisResumableStreamStore(FrameReads):
    """Resumable streams on Redis Streams (see the module docstring for the key layout).

    ``client`` is a ``redis.asyncio.Redis`` created *without* ``decode_responses``. Cursors are
    decimal sequence numbers. ``block_ms`` is the longest ``XREAD BLOCK`` (capped below half the
    client's socket timeout); ``lease_ms`` is how long a producer may go without renewing its
    lease before readers end its stream with an error; ``maxlen`` trims each stream to its last
    ``maxlen`` entries (a read from before them fails with ``trimmed``). ``write_interval``
    (seconds, 0 = off): while chunks keep coming, round trips of appends start at most once
    per interval and what arrives meanwhile joins the next one; a chunk after a quiet
    interval goes at once. ``poll_interval_ms`` is accepted for compatibility and unused:
    readers block, they do not poll.
    """

    def __init__(
        self,
        client: RedisLikeClient,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        default_ttl_ms: int = DEFAULT_TTL_MS,
        poll_interval_ms: int | None = None,
        max_chunk_bytes: int | None = None,
        block_ms: int = DEFAULT_BLOCK_MS,
        lease_ms: int = DEFAULT_LEASE_MS,
        maxlen: int | None = None,
        write_interval: float = DEFAULT_WRITE_INTERVAL,
    ) -> None:
        if hasattr(client, "set_nx") and not hasattr(client, "register_script"):
            raise TypeError(
                "RedisResumableStreamStore takes a redis.asyncio.Redis client, not an "
                "assistant-stream 0.0.36 RedisLikeClient adapter"
            )
        for name, value in (
            ("default_ttl_ms", default_ttl_ms),
            ("block_ms", block_ms),
            ("lease_ms", lease_ms),
            ("max_chunk_bytes", max_chunk_bytes),
            ("maxlen", maxlen),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value <= 0
            ):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not isinstance(key_prefix, str) or not key_prefix:
            raise ValueError("key_prefix must be a non-empty string")
        if (
            isinstance(write_interval, bool)
            or not isinstance(write_interval, (int, float))
            or not 0 <= write_interval <= 1
        ):
            raise ValueError(
                f"write_interval must be between 0 and 1 second, got {write_interval!r}"
            )
        kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
        if isinstance(kwargs, dict):
            if kwargs.get("decode_responses"):
                raise ValueError(
                    "the redis client must be created without decode_responses "
                    "(stream chunks are bytes)"
                )
            socket_timeout = kwargs.get("socket_timeout", _default_socket_timeout(client))
            if isinstance(socket_timeout, (int, float)) and socket_timeout > 0:
                block_ms = min(block_ms, max(10, math.floor(socket_timeout * 500)))
        self._client = client
        self.key_prefix = key_prefix
        self.default_ttl_ms = default_ttl_ms
        self.max_chunk_bytes = max_chunk_bytes
        self.block_ms = block_ms
        self.lease_ms = lease_ms
        self.maxlen = maxlen
        self.write_interval = float(write_interval)
        self.poll_interval_ms = poll_interval_ms
        self.stop_channel = f"{key_prefix}:stop"
        self._acquire_sha = hashlib.sha1(_ACQUIRE.encode()).hexdigest()
        self._append = client.register_script(_APPEND)
        self._append_many_sha = hashlib.sha1(_APPEND_MANY.encode()).hexdigest()
        self._finalize_sha = hashlib.sha1(_FINALIZE.encode()).hexdigest()
        self._status_sha = hashlib.sha1(_STATUS.encode()).hexdigest()
        self._stop = client.register_script(_STOP)
        self._producers: dict[str, _RedisProducer] = {}
        self._listener: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._background_lock: asyncio.Lock | None = None
        self._pubsub: Any = None
        self._lease_thread: _LeaseThread | None = None
        self._appends = _AppendQueue(self)
        self._tail = _Tail(self)
        # Stream ids being acquired by this store (how many acquisitions of each), and those of
        # them a stop was requested for meanwhile.
        self._starting: dict[str, int] = {}
        self._early_stops: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------

    def _keys(self, stream_id: str) -> _Keys:
        validate_stream_id(stream_id)
        return _Keys(self.key_prefix, stream_id)

    def _check_chunks(self, chunks: list[bytes]) -> None:
        limit = self.max_chunk_bytes
        for chunk in chunks:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError(f"chunks must be bytes, got {type(chunk).__name__}")
            if limit is not None and len(chunk) > limit:
                raise ResumableStreamError(
                    "limit", f"Chunk exceeds maxChunkBytes ({len(chunk)} > {limit})"
                )

    @staticmethod
    def _append_error(code: int, stream_id: str) -> ResumableStreamError:
        if code == -1:
            return ResumableStreamError("missing", f"Stream not found: {stream_id}")
        if code == -2:
            return ResumableStreamError("finalized", f"Stream already finalized: {stream_id}")
        return ResumableStreamError(
            "lease-lost", f"This producer no longer holds stream {stream_id}"
        )

    async def _finalize_stream(
        self,
        stream_id: str,
        status: Literal["done", "error"],
        error: str | None,
        token: str,
        only_if_lease_expired: bool = False,
        expected_last: int | None = None,
    ) -> int:
        if status not in ("done", "error"):
            raise ValueError(f"status must be 'done' or 'error', got {status!r}")
        message = (error if error is not None else "Stream errored") if status == "error" else ""
        keys = self._keys(stream_id)
        args = [
            status,
            message,
            token,
            "1" if only_if_lease_expired else "0",
            "" if expected_last is None else str(expected_last),
        ]
        return int(await self._appends.call(_FINALIZE, self._finalize_sha, keys.all, args))

    async def _check_producer(self, stream_id: str) -> ResumableStreamStatus:
        """The stream's status, after ending it with an error if its producer's lease expired."""
        keys = self._keys(stream_id)
        status, leased, lease = await self._meta_and_lease(keys)
        if status == "streaming" and leased == "1" and not lease:
            await self._finalize_stream(stream_id, "error", PRODUCER_LOST, "", True)
            status = (await self._meta_and_lease(keys))[0]
        return status

    async def _meta_and_lease(self, keys: _Keys) -> tuple[ResumableStreamStatus, str, bool]:
        reply = await self._appends.call(
            _STATUS, self._status_sha, [keys.meta, keys.lease], []
        )  # one script in the store's shared round trip
        if not reply:
            return "missing", "", False
        status, leased, lease = reply
        text = _text(status)
        state: ResumableStreamStatus = text if text in ("streaming", "done", "error") else "missing"  # type: ignore[assignment]
        return state, _text(leased), bool(int(lease))

    async def _ensure_background(self) -> None:
        """Start the stop-request listener and the lease keeper (once per store and loop)."""
        if self._keeper is not None and not self._keeper.done():
            return
        if self._background_lock is None:
            self._background_lock = asyncio.Lock()
        async with self._background_lock:
            if self._keeper is not None and not self._keeper.done():
                return
            pubsub = self._client.pubsub()
            await pubsub.subscribe(self.stop_channel)
            # Wait for the confirmation, so no stop published from now on is missed.
            for _ in range(50):
                message = await pubsub.get_message(timeout=0.1)
                if message is not None and message.get("type") in ("subscribe", b"subscribe"):
                    break
            self._pubsub = pubsub
            loop = asyncio.get_running_loop()
            self._listener = loop.create_task(self._listen(pubsub))
            if self._lease_thread is None and _dedicated_client(self._client) is not None:
                self._lease_thread = _LeaseThread(self, loop)
                self._lease_thread.start()
                self._keeper = self._listener  # marks the background as started
            elif self._lease_thread is None:
                self._keeper = loop.create_task(self._keep_leases())
            else:
                self._keeper = self._listener

    async def _keep_leases(self) -> None:
        """Fallback keeper on the event loop (for clients without a connection pool)."""
        interval = self.lease_ms / 3000
        while True:
            await asyncio.sleep(interval)
            producers = [p for p in self._producers.values() if not p.finishing]
            if not producers:
                continue
            try:
                results = await _renew_all(self._client, producers, self.lease_ms)
            except Exception as exc:  # a transient Redis failure: try again next time
                logger.warning("renewing resumable stream leases failed: %s", exc)
                continue
            for producer, result in zip(producers, results, strict=True):
                _apply_renewal(producer, result)

    async def _listen(self, pubsub: Any) -> None:
        timeout = min(1.0, self.block_ms / 1000)
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("listening for resumable stream stop requests failed: %s", exc)
                await asyncio.sleep(0.2)
                continue
            if message is None or message.get("type") not in ("message", b"message"):
                continue
            stream_id = _text(message.get("data", b""))
            producer = self._producers.get(stream_id)
            if producer is not None:
                producer.stop_requested.set()
            if stream_id in self._starting:
                self._early_stops.add(stream_id)

    # -- the 0.0.36 store interface -----------------------------------------------------------

    async def acquire(self, stream_id: str, *, ttl_ms: int | None = None) -> ResumableStreamRole:
        """``producer`` for a new (or expired) stream id, else ``consumer``.

        A stream acquired this way has no lease (nothing renews it), so readers never declare
        its producer dead; `acquire_producer` (used by the context) takes a lease.
        """
        role = await self._acquire_role(stream_id, ttl_ms, "")
        return "producer" if role == "producer" else "consumer"

    async def acquire_producer(self, stream_id: str, *, ttl_ms: int | None = None) -> Acquisition:
        """Like `acquire` with a leased producer handle; ``finished`` for an ended stream."""
        token = secrets.token_hex(16)
        # Listen for stop requests before the stream exists: a stop requested between the
        # acquisition and the producer's registration is kept for it in ``_early_stops``.
        await self._ensure_background()
        starting = self._starting
        starting[stream_id] = starting.get(stream_id, 0) + 1
        try:
            role = await self._acquire_role(stream_id, ttl_ms, token)
            if role == "streaming":
                return Acquisition("consumer")
            if role in ("done", "error"):
                return Acquisition("finished")
            producer = _RedisProducer(self, stream_id, token)
            try:
                await producer.start()
            except BaseException:
                await self._finalize_stream(
                    stream_id, "error", "The producer failed to start", token
                )
                raise
            if stream_id in self._early_stops:
                producer.stop_requested.set()
            return Acquisition("producer", producer)
        finally:
            left = starting.pop(stream_id) - 1
            if left:
                starting[stream_id] = left
            else:
                self._early_stops.discard(stream_id)

    async def _acquire_role(self, stream_id: str, ttl_ms: int | None, token: str) -> str:
        keys = self._keys(stream_id)
        ttl = self.default_ttl_ms if ttl_ms is None else ttl_ms
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
            raise ValueError(f"ttl_ms must be a positive integer, got {ttl!r}")
        role = await self._appends.call(
            _ACQUIRE, self._acquire_sha, keys.all, [ttl, self.lease_ms, token]
        )
        return _text(role)

    async def append(self, stream_id: str, chunk: bytes) -> None:
        """Record ``chunk`` (for producers that acquired with `acquire`)."""
        keys = self._keys(stream_id)
        self._check_chunks([chunk])
        result = int(
            await self._append(
                keys=[keys.meta, keys.data, keys.lease], args=["", self.maxlen or 0, chunk]
            )
        )
        if result < 0:
            raise self._append_error(result, stream_id)

    async def finalize(
        self, stream_id: str, status: Literal["done", "error"], error: str | None = None
    ) -> bool:
        """End the stream; False if it had already ended."""
        result = await self._finalize_stream(stream_id, status, error, "")
        if result == -1:
            raise ResumableStreamError("missing", f"Stream not found: {stream_id}")
        return result > 0

    async def read_frames(
        self, stream_id: str, cursor: str, signal: CancellationSignal, *, idle: float | None = None
    ) -> AsyncGenerator[tuple[int, list[bytes]], None]:
        """Like `read_batches`, each batch as the first entry's number and the chunks.

        While the stream's producer runs in this process (on this store), its entries come
        from it as soon as they are pushed; otherwise from ``XREAD BLOCK``. An error end
        (including the one written when the producer's lease expired) raises ``failed``, and
        entries after ``cursor`` that were trimmed away raise ``trimmed``.
        """
        keys = self._keys(stream_id)
        position = parse_cursor(cursor)
        held = self._producers.get(stream_id)
        if (held is None or not held.covers(position)) and not await self._check_cursor(
            keys, stream_id, position, start=True
        ):  # (a producer here that covers the position knows the stream)
            return
        watch = SignalWatch(signal)
        ticker = IdleTicker(idle)
        loop = asyncio.get_running_loop()
        data_key = keys.data.encode()
        # A signal that is only set once its reader is closed needs no watching during a wait.
        quiet = bool(getattr(signal, "set_only_after_close", False))
        producers = self._producers
        follower: _Follower | None = None
        followed_producer = False
        try:
            while True:
                if signal.is_set():
                    return
                # The producer stays known after it finished: its readers end with its end.
                producer = producers.get(stream_id) or held
                held = producer
                local = producer.after(position) if producer is not None else None
                if local is not None and producer is not None:
                    followed_producer = True
                    if follower is not None:
                        self._tail.unfollow(follower)
                        follower = None
                    if local:
                        first = position + 1
                        position += len(local)
                        yield first, local
                        ticker.active()
                        continue
                    if producer.end is not None:
                        number, failure = producer.end
                        # Past the end: entries handed out here were not written (the run
                        # failed writing them); the reader ends with the run's error.
                        if position + 1 >= number:
                            if failure is not None:
                                raise ResumableStreamError("failed", failure)
                            return
                        producer = None  # entries before the end are missing here: Redis
                    if producer is not None:
                        # No timer: a stream deleted, expired or ended elsewhere takes the
                        # producer's lease with it, and the lease keeper's next renewal
                        # (every third of lease_ms) wakes this wait.
                        future = producer.waiter()
                        if not quiet:
                            watch.arm(future)
                        ticker.arm(future)
                        await future
                        if ticker.due():
                            yield position + 1, []
                        continue
                if follower is None:
                    if followed_producer:  # this reader may be past the entries Redis has
                        followed_producer = False
                        if not await self._check_cursor(keys, stream_id, position, start=False):
                            return
                    # Catch up directly; once there is nothing more, follow through the tail.
                    reply = await self._client.xread({keys.data: f"0-{position}"}, count=1000)
                    entries = _stream_entries(reply, data_key)
                    if not entries:
                        follower = self._tail.follow(data_key, position)
                        continue
                else:
                    if not (follower.pending or follower.quiet or follower.error):
                        future = follower.future = loop.create_future()
                        if not quiet:
                            watch.arm(future)
                        ticker.arm(future)
                        await future
                        if ticker.due():
                            yield position + 1, []
                        continue
                    if follower.error is not None:
                        raise follower.error
                    entries, follower.pending = follower.pending, []
                    if not entries:
                        follower.quiet = False
                        state = await self._check_producer(stream_id)
                        if state == "missing":
                            return
                        if state != "streaming" and not await self._has_after(keys, position):
                            if state == "error":
                                raise ResumableStreamError("failed", "Stream errored")
                            return
                        continue
                first = position + 1
                batch: list[bytes] = []
                end: dict[bytes, bytes] | None = None
                gap = False
                for entry_id, fields in entries:
                    number = int(_text(entry_id).partition("-")[2])  # its last chunk's
                    if _FIN in fields:
                        if number > position + 1:
                            gap = True
                        else:  # (before this reader's position: it is ahead of the end)
                            position = max(position, number)
                            end = fields
                        break
                    if number <= position:
                        continue  # read for another follower of the stream
                    chunks = _entry_chunks(fields)
                    start = number - len(chunks) + 1
                    if start > position + 1:
                        gap = True
                        break
                    batch += chunks[position + 1 - start :] if start <= position else chunks
                    position = number
                if batch:
                    if signal.is_set():
                        return
                    yield first, batch
                    ticker.active()
                if gap:
                    if follower is None:
                        raise ResumableStreamError(
                            "trimmed", f"Entries after cursor {position} were trimmed"
                        )
                    self._tail.unfollow(follower)  # read the missing ones directly
                    follower = None
                    continue
                if end is not None:
                    if end[_FIN] == _FIN_ERROR:
                        message = end.get(_ERROR)
                        raise ResumableStreamError(
                            "failed", _text(message) if message else "Stream errored"
                        )
                    return
        finally:
            if follower is not None:
                self._tail.unfollow(follower)
            ticker.close()
            await watch.close()

    async def _check_cursor(
        self, keys: _Keys, stream_id: str, position: int, *, start: bool
    ) -> bool:
        """Check a reader's position against the stream in Redis before reading there; False if
        the stream is gone (when not at the ``start`` of a read: the reader ends quietly).

        The producer hands out entries in its own process before Redis acknowledges them, so a
        reader that moved to another worker may be a round trip ahead of Redis: while a leased
        stream runs, such a position is given up to ``lease_ms`` to be written. A position past
        the end of an ended stream ends the read with the stream's error, or is refused as
        ``invalid-id``, as is one still ahead after the wait."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lease_ms / 1000
        while True:
            status, last, first, error, leased = await self._client.hmget(
                keys.meta, ["status", "seq", "first", "error", "leased"]
            )
            if status is None:
                if start:
                    raise ResumableStreamError("missing", f"Stream not found: {stream_id}")
                return False
            if position <= int(last):
                break
            state = _text(status)
            if state == "error":
                raise ResumableStreamError("failed", _text(error) if error else "Stream errored")
            remaining = deadline - loop.time()
            if state != "streaming" or _text(leased) != "1" or remaining <= 0:
                raise ResumableStreamError(
                    "invalid-id", f"Cursor {position} is ahead of the stream"
                )
            block = max(1, min(self.block_ms, math.ceil(remaining * 1000)))
            await self._client.xread({keys.data: f"0-{position - 1}"}, count=1, block=block)
        if position + 1 < int(first):
            raise ResumableStreamError("trimmed", f"Entries after cursor {position} were trimmed")
        return True

    async def _has_after(self, keys: _Keys, position: int) -> bool:
        reply = await self._client.xread({keys.data: f"0-{position}"}, count=1)
        return bool(_stream_entries(reply, keys.data.encode()))

    async def status(self, stream_id: str) -> ResumableStreamStatus:
        """``streaming``, ``done``, ``error`` (also when the producer died) or ``missing``."""
        return await self._check_producer(stream_id)

    async def delete(self, stream_id: str) -> None:
        """Forget the stream (live readers end within ``block_ms``)."""
        await self._client.delete(*self._keys(stream_id).all)

    # -- extensions ------------------------------------------------------------------------

    async def request_stop(self, stream_id: str) -> bool:
        """Ask the stream's producer (on any worker) to stop; False if it is not streaming."""
        keys = self._keys(stream_id)
        return bool(
            int(await self._stop(keys=[keys.meta, keys.stop], args=[self.stop_channel, stream_id]))
        )

    async def aclose(self) -> None:
        """Stop the background work (the client you passed in stays open)."""
        await self._tail.aclose()
        tasks = [t for t in {self._listener, self._keeper} if t is not None]
        self._listener = self._keeper = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        thread, self._lease_thread = self._lease_thread, None
        if thread is not None:
            await thread.stop()
        pubsub, self._pubsub = self._pubsub, None
        try:
            if pubsub is not None:
                await pubsub.aclose()
        except Exception as exc:
            logger.debug("closing the stop-request subscription failed: %s", exc)


def _apply_renewal(producer: _RedisProducer, result: Any) -> None:
    if producer.finishing:
        return
    if isinstance(result, Exception):
        logger.warning(
            "renewing the lease of resumable stream %s failed: %s", producer.stream_id, result
        )
    elif int(result) == 0:
        logger.warning(
            "resumable stream %s: the producer lost its lease; it stops writing",
            producer.stream_id,
        )
        producer.lost()
    elif int(result) == 2:
        producer.stop_requested.set()


async def _renew_all(client: Any, producers: list[_RedisProducer], lease_ms: int) -> list[Any]:
    calls = [([p.keys.lease, p.keys.stop], [p.token, lease_ms]) for p in producers]
    return await _evalsha_batch(client, _RENEW, _RENEW_SHA, calls)


class _LeaseThread:
    """Renews the leases of a store's producers from a thread of its own, with its own event
    loop and connection: a busy event loop cannot delay renewals into expiry. It stops
    renewing when the store's event loop has not run for ``stall`` seconds (then the loop is
    stuck, and its streams should end) or is closed."""

    def __init__(self, store: RedisResumableStreamStore, loop: asyncio.AbstractEventLoop) -> None:
        self._store = store
        self._loop = loop
        self._interval = store.lease_ms / 3000
        self._stall = max(10.0, 5 * store.lease_ms / 1000)
        self._stopped = threading.Event()
        self._beat = time.monotonic()
        self._beat_handle: asyncio.TimerHandle | None = None
        self._thread = threading.Thread(
            target=self._run, name="assistant-stream-ce lease keeper", daemon=True
        )

    def start(self) -> None:
        self._heartbeat()
        self._thread.start()

    def _heartbeat(self) -> None:
        self._beat = time.monotonic()
        if not self._stopped.is_set():
            self._beat_handle = self._loop.call_later(self._interval, self._heartbeat)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:
            logger.exception("the resumable stream lease keeper failed")

    def _notify(self, producer: _RedisProducer, result: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(_apply_renewal, producer, result)
        except RuntimeError:  # the store's loop is closed
            self._stopped.set()

    async def _main(self) -> None:
        client = _dedicated_client(self._store._client)
        assert client is not None
        store = self._store
        try:
            while not self._stopped.is_set():
                await asyncio.sleep(self._interval)
                if self._stopped.is_set() or self._loop.is_closed():
                    return
                if time.monotonic() - self._beat > self._stall:
                    continue  # the store's loop is stuck: let its leases lapse
                producers = [p for p in list(store._producers.values()) if not p.finishing]
                if not producers:
                    continue
                try:
                    results = await _renew_all(client, producers, store.lease_ms)
                except Exception as exc:  # a transient Redis failure: try again next time
                    logger.warning("renewing resumable stream leases failed: %s", exc)
                    continue
                for producer, result in zip(producers, results, strict=True):
                    if isinstance(result, Exception) or int(result) != 1:
                        self._notify(producer, result)
        finally:
            await client.aclose()
            await client.connection_pool.disconnect()

    async def stop(self) -> None:
        self._stopped.set()
        if self._beat_handle is not None:
            self._beat_handle.cancel()
        await asyncio.to_thread(self._thread.join, 5)


def _default_socket_timeout(client: Any) -> Any:
    """The socket timeout connections get when the pool's settings do not name one."""
    pool = getattr(client, "connection_pool", None)
    connection_class = getattr(pool, "connection_class", None)
    kwargs = getattr(pool, "connection_kwargs", None)
    if connection_class is None or not isinstance(kwargs, dict):
        return None
    try:  # an unconnected connection object: no I/O
        return getattr(connection_class(**kwargs), "socket_timeout", None)
    except Exception:
        return None


def _dedicated_client(client: Any) -> Any:
    """A client with a small pool of its own, made like ``client`` (None if it cannot be)."""
    pool = getattr(client, "connection_pool", None)
    kwargs = getattr(pool, "connection_kwargs", None)
    connection_class = getattr(pool, "connection_class", None)
    if not isinstance(kwargs, dict) or connection_class is None:
        return None
    try:
        import redis.asyncio as redis_asyncio
    except ImportError:
        return None
    own_pool = redis_asyncio.ConnectionPool(
        connection_class=connection_class, max_connections=2, **kwargs
    )
    return redis_asyncio.Redis(connection_pool=own_pool)


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _entry_chunks(fields: dict[bytes, bytes]) -> list[bytes]:
    """The chunks a stream entry holds."""
    data = fields.get(_CHUNK, b"")
    lengths = fields.get(_LENGTHS)
    if not lengths:
        return [data]
    chunks: list[bytes] = []
    offset = 0
    for length in lengths.split(b","):
        end = offset + int(length)
        chunks.append(data[offset:end])
        offset = end
    return chunks


def _reply_streams(reply: Any) -> list[tuple[bytes, list[tuple[Any, dict[bytes, bytes]]]]]:
    """Every stream of an ``XREAD`` reply (RESP2 list or RESP3 map) with its entries."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return [
            (name, list(value[0] if value and isinstance(value[0], list) else value))
            for name, value in reply.items()
        ]
    return [(name, list(entries)) for name, entries in reply]


def _stream_entries(reply: Any, key: bytes) -> list[tuple[Any, dict[bytes, bytes]]]:
    """The entries of one stream in an ``XREAD`` reply (RESP2 list or RESP3 map)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        for name, value in reply.items():
            if name == key or _text(name) == key.decode():
                entries = value[0] if value and isinstance(value[0], list) else value
                return list(entries)
        return []
    for name, entries in reply:
        if name == key or _text(name) == key.decode():
            return list(entries)
    return []


def create_redis_resumable_stream_store(
    client: Any,
    *,
    key_prefix: str = DEFAULT_KEY_PREFIX,
    default_ttl_ms: int = DEFAULT_TTL_MS,
    poll_interval_ms: int | None = None,
    max_chunk_bytes: int | None = None,
    block_ms: int = DEFAULT_BLOCK_MS,
    lease_ms: int = DEFAULT_LEASE_MS,
    maxlen: int | None = None,
    write_interval: float = DEFAULT_WRITE_INTERVAL,
) -> RedisResumableStreamStore:
    """A store backed by a ``redis.asyncio.Redis`` client (``pip install
    assistant-stream-ce[redis]``); see `RedisResumableStreamStore` for the options."""
    try:
        import redis.asyncio  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "create_redis_resumable_stream_store needs redis-py: "
            "pip install 'assistant-stream-ce[redis]'"
        ) from exc
    return RedisResumableStreamStore(
        client,
        key_prefix=key_prefix,
        default_ttl_ms=default_ttl_ms,
        poll_interval_ms=poll_interval_ms,
        max_chunk_bytes=max_chunk_bytes,
        block_ms=block_ms,
        lease_ms=lease_ms,
        maxlen=maxlen,
        write_interval=write_interval,
    )
