"""A client that disconnects while a server tool runs cancels the tool (a real uvicorn server,
a real HTTP client that goes away mid-stream)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from _live import LiveServer
from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import run_provider
from assistant_stream_ce.serialization.data_stream import DataStreamResponse

pytestmark = pytest.mark.http

STARTED = threading.Event()
CANCELLED = threading.Event()
FINISHED = threading.Event()


async def get_weather(city: str) -> str:
    """A slow tool: 30 s unless cancelled."""
    STARTED.set()
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        CANCELLED.set()
        raise
    FINISHED.set()
    return "sunny"


def make_app() -> FastAPI:
    app = FastAPI()

    @app.post("/chat")
    async def chat() -> DataStreamResponse:
        async def run(controller: RunController) -> None:
            await run_provider(
                controller,
                [{"role": "user", "content": "Weather in Oslo?"}],
                provider="offline",
                tools=[get_weather],
                pace=0,
            )

        return DataStreamResponse(create_run(run))

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    live = LiveServer(make_app()).start()
    yield live
    live.stop()


def test_disconnect_during_a_server_tool_cancels_it(server: LiveServer) -> None:
    with httpx.Client(timeout=10) as client, client.stream("POST", server.url("/chat")) as response:
        assert response.status_code == 200
        seen = ""
        for text in response.iter_text():
            seen += text
            if "\ne:{" in seen:  # the model step ended with the call: the tool runs now
                break
        assert 'b:{"toolCallId"' in seen and '"finishReason":"tool-calls"' in seen
        assert STARTED.wait(5)  # the tool is running while the client is still connected
    # the client is gone: the run and its tool are cancelled within the grace period
    deadline = time.monotonic() + 5
    while not CANCELLED.is_set() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert CANCELLED.is_set() and not FINISHED.is_set()
    assert server.task_count() <= 2  # nothing of the run is left running
