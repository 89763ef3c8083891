"""The response writes from the task that serves the request: no writer task of its own.

An idle stream then costs the request's task, one task that waits for the client's next
message and the run's task (the idle-memory target of issue 14 counts every one). A
disconnect or a client that stopped reading cancels the write, and only the write: the
server's task goes on as if the response had ended, while a cancellation from outside (a
server shutting down) still reaches it.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.serialization import PROTOCOLS

PROTOCOL_NAMES = list(PROTOCOLS)


class Client:
    """An ASGI client: records what is sent, disconnects when told to."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.gone = asyncio.Event()
        self.first_body = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            self.first_body.set()


def _response(protocol: str, run: Any, **options: Any) -> Any:
    info = PROTOCOLS[protocol]
    return info.response(create_run(run), **{**info.demo_options, **options})


def _idle_run(cancelled: asyncio.Event) -> Any:
    async def run(controller: RunController) -> None:
        controller.append_text("first")
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    return run


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
async def test_an_idle_stream_costs_two_tasks_besides_the_requests(protocol: str) -> None:
    client = Client()
    cancelled = asyncio.Event()
    before = len(asyncio.all_tasks())
    serving = asyncio.create_task(
        _response(protocol, _idle_run(cancelled))({"type": "http"}, client.receive, client.send)
    )
    await asyncio.wait_for(client.first_body.wait(), 5)
    # The request's task, the listener and the run: nothing else stays alive.
    extra = len(asyncio.all_tasks()) - before
    assert extra == 3, f"{extra} tasks"
    client.gone.set()
    await asyncio.wait_for(serving, 5)
    assert cancelled.is_set()
    assert len(asyncio.all_tasks()) == before


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
async def test_a_disconnect_ends_the_response_without_cancelling_its_task(protocol: str) -> None:
    client = Client()
    cancelled = asyncio.Event()
    response = _response(protocol, _idle_run(cancelled))

    async def serve() -> int:
        await response({"type": "http"}, client.receive, client.send)
        # Still running normally, with no cancellation left pending on this task.
        await asyncio.sleep(0)
        task = asyncio.current_task()
        assert task is not None
        return task.cancelling() if sys.version_info >= (3, 11) else 0

    serving = asyncio.create_task(serve())
    await asyncio.wait_for(client.first_body.wait(), 5)
    client.gone.set()
    assert await asyncio.wait_for(serving, 5) == 0
    assert response.ended_early == "disconnect"
    assert cancelled.is_set()


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
async def test_a_cancellation_from_outside_reaches_the_server(protocol: str) -> None:
    client = Client()
    cancelled = asyncio.Event()
    response = _response(protocol, _idle_run(cancelled))
    serving = asyncio.create_task(response({"type": "http"}, client.receive, client.send))
    await asyncio.wait_for(client.first_body.wait(), 5)
    serving.cancel()  # a server shutting down
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert cancelled.is_set(), "the run was not stopped"
    assert response.ended_early is None


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10 does not count cancel requests")
async def test_a_shutdown_during_a_disconnect_still_cancels_the_server() -> None:
    client = Client()
    response = _response("data-stream", _idle_run(asyncio.Event()))
    serving = asyncio.create_task(response({"type": "http"}, client.receive, client.send))
    await asyncio.wait_for(client.first_body.wait(), 5)
    client.gone.set()
    await asyncio.sleep(0)  # the listener sees the disconnect and cancels the write ...
    serving.cancel()  # ... while the server cancels the request too
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert response.ended_early == "disconnect"


async def test_a_client_that_stops_reading_ends_the_response_quietly() -> None:
    client = Client()
    stalled = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        await client.send(message)
        if len(client.messages) > 2:
            stalled.set()
            await asyncio.sleep(60)  # the socket's buffer is full and the client never reads

    async def run(controller: RunController) -> None:
        for i in range(1000):
            controller.append_text(f"tok{i} ")
            await asyncio.sleep(0.001)

    response = _response("data-stream", run, send_timeout=0.2)
    await asyncio.wait_for(response({"type": "http"}, client.receive, send), 5)
    assert stalled.is_set()
    assert response.ended_early == "send-timeout"
