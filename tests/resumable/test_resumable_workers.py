"""Two real uvicorn worker processes on 127.0.0.1 sharing one real redis-server: resume on the
other worker after a disconnect, a killed worker's stream ends with an error frame, a stop sent
to one worker cancels the run on the other, ids stay unique and increasing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _resumable_redis import RedisServer

try:  # the shared SSE reader (serialization.sse on main, _sse before the serialization redesign)
    from assistant_stream_ce.serialization.sse import SSEEvent, SSEParser
except ImportError:  # pragma: no cover
    from assistant_stream_ce.serialization._sse import SSEEvent, SSEParser

pytestmark = pytest.mark.http

WORKER = Path(__file__).with_name("_resumable_worker.py")


class Worker:
    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.port = 0

    def wait_started(self) -> Worker:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"worker did not start: {line!r}")
        self.port = int(line)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url("/chat/x/stream"), timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("worker did not answer")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # by its PID
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture(scope="module")
def cluster(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Worker A and worker B, separate processes on one Redis server."""
    cancel_dir = tmp_path_factory.mktemp("cancelled")
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "KEY_PREFIX": f"workers:{uuid.uuid4().hex[:8]}",
        "CANCEL_DIR": str(cancel_dir),
        "PYTHONPATH": os.pathsep.join([str(WORKER.parent), os.environ.get("PYTHONPATH", "")]),
    }
    workers = [Worker(env), Worker(env)]
    try:
        for worker in workers:
            worker.wait_started()
        yield {"a": workers[0], "b": workers[1], "env": env, "cancel_dir": cancel_dir}
    finally:
        for worker in workers:
            worker.stop()


class EventReader:
    """SSE events of a streamed response, read in as many steps as needed."""

    def __init__(self, response: httpx.Response) -> None:
        self._raw = response.iter_raw()
        self._parser = SSEParser("test")
        self._ready: list[SSEEvent] = []

    def take(self, limit: int | None = None) -> list[SSEEvent]:
        """At least ``limit`` more events (or all the rest, checked to end cleanly)."""
        for data in self._raw:
            self._ready.extend(self._parser.feed(data))
            if limit is not None and len(self._ready) >= limit:
                break
        else:
            assert not self._parser.close() and not self._parser.incomplete
        out, self._ready = self._ready, []
        return out


def read_events(response: httpx.Response, limit: int | None = None) -> list[SSEEvent]:
    return EventReader(response).take(limit)


def frames(events: list[SSEEvent]) -> list[tuple[str, str]]:
    return [(e.id, e.data) for e in events]


def new_id() -> str:
    return f"chat-{uuid.uuid4().hex[:10]}"


def test_a_client_disconnects_from_a_and_resumes_on_b_exactly(cluster: dict[str, Any]) -> None:
    a, b = cluster["a"], cluster["b"]
    chat = new_id()
    user = {"x-user": "alice"}
    with httpx.Client(timeout=10) as client:
        with client.stream("POST", a.url(f"/chat/{chat}?n=60&pause=0.01"), headers=user) as r:
            assert r.status_code == 200 and r.headers["x-resumable-stream-id"] == chat
            first = read_events(r, limit=15)  # then the connection is dropped
        assert all(e.data != "[DONE]" for e in first), "disconnected halfway"
        last_id = first[-1].id
        with client.stream(
            "GET", b.url(f"/chat/{chat}/stream"), headers={**user, "last-event-id": last_id}
        ) as r:
            assert r.status_code == 200
            second = read_events(r)
        with client.stream("GET", a.url(f"/chat/{chat}/stream"), headers=user) as r:
            full = read_events(r)
        # Somebody else cannot read it by guessing the id.
        other = client.get(b.url(f"/chat/{chat}/stream"), headers={"x-user": "mallory"})
        assert other.status_code == 204
    assert frames(first) + frames(second) == frames(full)
    assert full[-1].data == "[DONE]" and "t59 " in "".join(e.data for e in full)
    assert len({e.id for e in full}) == len(full)


def test_a_killed_worker_s_stream_ends_with_an_error_frame_within_5_s(
    cluster: dict[str, Any],
) -> None:
    victim = Worker(cluster["env"]).wait_started()
    b = cluster["b"]
    chat = new_id()
    try:
        with httpx.Client(timeout=15) as client:
            with client.stream("POST", victim.url(f"/chat/{chat}?n=100000&pause=0.01")) as r:
                assert read_events(r, limit=3)
            with client.stream("GET", b.url(f"/chat/{chat}/stream")) as r:
                parser = SSEParser("test")
                seen: list[SSEEvent] = []
                killed_at = 0.0
                for data in r.iter_raw():
                    seen.extend(parser.feed(data))
                    if not killed_at and len(seen) >= 10:
                        os.kill(victim.process.pid, signal.SIGKILL)
                        victim.process.wait(5)
                        killed_at = time.monotonic()
                ended_at = time.monotonic()
                assert not parser.close() and not parser.incomplete
    finally:
        victim.stop()
    assert killed_at, "the stream ended before the worker was killed"
    assert ended_at - killed_at < 5
    assert '"type":"error"' in seen[-2].data and "producer" in seen[-2].data
    assert seen[-1].data == "[DONE]"


def test_a_stop_sent_to_b_cancels_the_run_on_a_within_200_ms(cluster: dict[str, Any]) -> None:
    a, b = cluster["a"], cluster["b"]
    chat = new_id()
    marker = Path(cluster["cancel_dir"]) / chat
    with httpx.Client(timeout=10) as client:
        with client.stream("POST", a.url(f"/chat/{chat}?n=100000&pause=0.01")) as r:
            reader = EventReader(r)
            assert len(reader.take(3)) >= 3
            sent = time.time()
            answer = client.post(b.url(f"/chat/{chat}/stop"))
            assert answer.json() == {"stopped": True}
            rest = reader.take()  # the producer's own response ends properly
        deadline = time.monotonic() + 2
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        assert marker.exists(), "the run on worker A was not cancelled"
        stopped = float(marker.read_text())
        assert stopped - sent < 0.2
        assert rest[-1].data == "[DONE]"
        assert client.post(b.url(f"/chat/{chat}/stop")).json() == {"stopped": False}


def test_a_thousand_events_in_a_tight_loop_keep_unique_increasing_ids(
    cluster: dict[str, Any],
) -> None:
    chat = new_id()
    with httpx.Client(timeout=10) as client:
        with client.stream("POST", cluster["a"].url(f"/chat/{chat}?n=1000&kind=data")) as r:
            events = read_events(r)
        with client.stream("GET", cluster["b"].url(f"/chat/{chat}/stream")) as r:
            replay = read_events(r)
    ids = [int(e.id) for e in events]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) >= 1002  # 1,000 data + end frames
    assert sum('"type":"data"' in e.data for e in events) == 1000
    assert frames(replay) == frames(events)
