"""An error that ends a protocol's stream (OpenAI, RAIS) ends the body at once and stops the run,
even when the callback goes on after ``add_error``."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.serialization.openai_stream import (
    OpenAIStreamEncoder,
    OpenAIStreamResponse,
)

pytestmark = pytest.mark.http


async def test_openai_error_event_ends_the_body_and_cancels_the_run(live_server: Any) -> None:
    cancelled = threading.Event()  # set on the server's thread

    async def run(controller: RunController) -> None:
        controller.append_text("partial")
        controller.add_error("upstream failed")
        try:
            for _ in range(100):
                controller.append_text(" more")
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def endpoint(request: Any) -> OpenAIStreamResponse:
        return OpenAIStreamResponse(create_run(run))

    server = live_server(Starlette(routes=[Route("/", endpoint)]))
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=5) as client:
        body = (await client.get(server.url("/"))).text
    assert time.monotonic() - started < 2
    events = [line[6:] for line in body.split("\n") if line.startswith("data: ")]
    assert '"upstream failed"' in events[-2]
    assert events[-1] == "[DONE]"
    assert not any("more" in event for event in events)
    # The run was stopped on the server (cancelled after the grace period).
    assert await asyncio.to_thread(cancelled.wait, 1.0)


async def test_iter_bytes_stops_after_a_terminal_error() -> None:
    async def run(controller: RunController) -> None:
        controller.add_error("boom")
        await asyncio.sleep(0)
        controller.append_text("never shown")
        await asyncio.sleep(30)

    pieces = [piece async for piece in OpenAIStreamEncoder().iter_bytes(create_run(run))]
    body = b"".join(pieces).decode()
    assert "never shown" not in body
    assert body.endswith("data: [DONE]\n\n")
